// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/jitscope/jitscope/themes"
)

type fakeKernel struct {
	progs    []KernelProgram
	compared []uint32
}

func (f *fakeKernel) Programs() ([]KernelProgram, error) { return f.progs, nil }

func (f *fakeKernel) Compare(id uint32) (*KernelView, error) {
	f.compared = append(f.compared, id)
	if id == 9 {
		return nil, errors.New("no such program loaded")
	}
	return &KernelView{
		Title: "program 7 entry (sched_cls)",
		Info:  []string{"kernel 6.18.44, jitscope profile x86_64 v6.18"},
		Funcs: []KernelFunc{{
			Header:  "int entry(struct __sk_buff *skb):",
			Summary: "entry: differs at +0x5",
			Rows: []KernelRow{
				{Kernel: "0xffffffffc0000000: 0f 1f 44 00 00 nopl 0x0(%rax,%rax,1)", Jitscope: "0f 1f 44 00 00 nopl 0x0(%rax,%rax,1)", Note: "patch site"},
				{Kernel: "0xffffffffc0000005: 31 c0 xor %eax,%eax", Jitscope: "48 31 c0 xor %rax,%rax", BPF: "r0 = 0", Differs: true},
				{Kernel: "0xffffffffc0000007: c3 ret", Jitscope: "c3 ret"},
			},
		}},
	}, nil
}

func kpress(m *KernelModel, keys ...string) {
	for _, k := range keys {
		var msg tea.KeyPressMsg
		switch k {
		case "enter":
			msg = tea.KeyPressMsg{Code: tea.KeyEnter}
		case "esc":
			msg = tea.KeyPressMsg{Code: tea.KeyEscape}
		default:
			msg = tea.KeyPressMsg{Code: []rune(k)[0], Text: k}
		}
		m.Update(msg)
	}
}

func TestKernelUI(t *testing.T) {
	src := &fakeKernel{progs: []KernelProgram{
		{ID: 3, Type: "xdp", Name: "xdp_prog", Tag: "0011223344556677", JitedLen: 100, XlatedLen: 9, Fns: 1},
		{ID: 7, Type: "sched_cls", Name: "entry", Tag: "8899aabbccddeeff", JitedLen: 8, XlatedLen: 2, Fns: 1},
		{ID: 9, Type: "sched_cls", Name: "gone", Tag: "ffffffffffffffff", JitedLen: 8, XlatedLen: 2, Fns: 1},
	}}
	m := NewKernel(src, themes.Mono())
	m.Update(tea.WindowSizeMsg{Width: 140, Height: 20})
	out := m.Render()
	for _, w := range []string{"3 programs loaded", "> 3 ", "xdp_prog", "8899aabbccddeeff"} {
		if !strings.Contains(out, w) {
			t.Errorf("list lacks %q:\n%s", w, out)
		}
	}
	kpress(m, "j", "enter")
	if len(src.compared) != 1 || src.compared[0] != 7 {
		t.Fatalf("compared %v, want [7]", src.compared)
	}
	out = m.Render()
	for _, w := range []string{"program 7 entry", "DIFFERS", "int entry(struct __sk_buff *skb):", "! r0 = 0 | 0xffffffffc0000005: 31 c0 xor %eax,%eax                  | 48 31 c0 xor %rax,%rax", "// patch site", "entry: differs at +0x5"} {
		if !strings.Contains(out, w) {
			t.Errorf("comparison lacks %q:\n%s", w, out)
		}
	}
	// n jumps to the differing row.
	kpress(m, "n")
	if !m.lines[m.at].differs {
		t.Errorf("n went to %q", m.lines[m.at].text)
	}
	if !strings.Contains(m.Render(), ">! r0 = 0 | 0xffffffffc0000005") {
		t.Errorf("cursor not on the difference:\n%s", m.Render())
	}
	kpress(m, "esc", "j", "enter")
	if !strings.Contains(m.Render(), "program 9: no such program loaded") || m.inDetail {
		t.Errorf("a failed comparison is not reported in the list:\n%s", m.Render())
	}
	_, cmd := m.Update(tea.KeyPressMsg{Code: 'q', Text: "q"})
	if cmd == nil {
		t.Error("q does not quit")
	}
}
