// Package capture reads kernel JIT captures: directories in the normalized
// format "jitscope-capture/1", each holding one BPF program as a real Linux
// kernel loaded it. A capture has the verifier's translated instructions
// (xlated.bin, the JIT's input), the image the kernel's JIT produced
// (jited.bin, and jited.empty.bin where the image differed before the prog
// arrays were filled) and the facts of that one load (capture.json: kernel
// configuration, function boundaries and addresses, maps, symbols, struct
// layout, test runs). The format is specified in FORMAT.md of the
// ground-truth collection the captures in testdata/captures come from.
//
// Load turns a capture directory into a Capture: the program and its maps as
// a kernel.Set whose Placement for the capture's architecture pins every
// address, struct offset and configuration value the kernel used, and the
// kernel's bytes for each function, so that a JIT can be checked against
// the kernel byte for byte.
//
// Load checks what the format promises (functions tile xlated.bin and
// jited.bin, bpf-to-bpf calls target function starts, addresses are
// well-formed, lengths agree) and reports the first problem as an *Error
// naming the file; it never panics on corrupt input.
package capture

import (
	"encoding/json"
	"errors"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/jitscope/jitscope/internal/readfile"
	"github.com/jitscope/jitscope/kernel"
)

// Format is the value of capture.json's "format" field this package reads.
const Format = "jitscope-capture/1"

// File names inside a capture directory.
const (
	FileCapture    = "capture.json"
	FileXlated     = "xlated.bin"
	FileJited      = "jited.bin"
	FileJitedEmpty = "jited.empty.bin"
)

// Capture is one normalized kernel capture directory (format
// jitscope-capture/1): one program as one kernel loaded and JITed it.
type Capture struct {
	Dir    string
	Kernel KernelInfo
	// Set holds the program (Set.Programs[0], named Program) and its maps,
	// with Set.Placements[Kernel.Arch] pinning the capture's addresses,
	// symbols, struct layout and configuration.
	Set *kernel.Set
	// Program is the name of the program in Set (capture.json program.name;
	// the kernel truncates it to 15 characters).
	Program string
	Info    ProgramInfo
	// Funcs lists the JITed functions in kernel order (main program first)
	// with the kernel's bytes for each.
	Funcs []FuncBytes
	// Maps lists the maps the program uses, as capture.json records them.
	Maps []MapInfo
	// References lists every field of jited.bin whose value depends on where
	// the kernel placed something (calls, map pointers, tail-call targets).
	References []Reference
	// Runs holds the BPF_PROG_TEST_RUN results recorded for the program.
	Runs []Run
	// Xlated, Jited and JitedEmpty are the raw files; JitedEmpty is nil when
	// the capture has no jited.empty.bin.
	Xlated     []byte
	Jited      []byte
	JitedEmpty []byte
	// EmptyImage is prog_arrays.empty_image: whether the image before the
	// prog arrays were filled was captured and how it compares.
	EmptyImage string
	// Raw is capture.json as read.
	Raw json.RawMessage
}

// KernelInfo describes the kernel a capture was taken on.
type KernelInfo struct {
	Name         string // "x86_64-6.18", "arm64-6.1-bti", ...
	Arch         kernel.Arch
	Release      string // uname -r
	Version      string // "6.1", "6.18"
	UnameVersion string
	Package      string
	Boot         string
	CPU          string
	Cmdline      string
	// Config holds the JIT-relevant .config options: "y", "m", "n" (not
	// set) or the option's value. Options the kernel does not have (null in
	// capture.json) are omitted.
	Config map[string]string
	// CPUFeatures lists the JIT-relevant CPU features present.
	CPUFeatures []string
	// Mitigations holds /sys/devices/system/cpu/vulnerabilities.
	Mitigations map[string]string
	// Sysctl holds the BPF-related sysctls (bpf_jit_harden, ...).
	Sysctl map[string]string
	// ReturnThunk is the return thunk seen in this kernel's images (x86),
	// "" for none (plain ret) or unknown.
	ReturnThunk string
	// IndirectThunks lists the retpoline thunks seen in this kernel's images.
	IndirectThunks []string
}

// ProgramInfo is capture.json's "program" object.
type ProgramInfo struct {
	Name        string
	Type        string // libbpf name: "sched_cls", ...
	TypeID      int
	Tag         string
	Source      string // BPF C source, relative to the ground-truth directory
	Section     string
	Scenario    string
	ID          int // kernel program id
	XlatedInsns int // 8-byte slots in xlated.bin
	JitedLen    int
	Build       string
}

// FuncBytes is one JITed function and the kernel's image of it.
type FuncBytes struct {
	Name    string
	Ksym    string // kallsyms name, bpf_prog_<tag>_<name>
	Tag     string // func_tag, where captured
	Address uint64 // load address of the image
	// Offset and Len locate the function in jited.bin.
	Offset, Len int
	// InsnStart and InsnCount locate the function in xlated.bin, in 8-byte
	// slots; Start is the index of its first instruction in the program's
	// Insns (ld_imm64 is one instruction but two slots).
	InsnStart, InsnCount int
	Start                int
	StackDepth           int // the verifier's stack depth, -1 if unknown
	// Bytes is jited.bin[Offset:Offset+Len]; EmptyBytes the same slice of
	// jited.empty.bin, nil when the capture has none.
	Bytes      []byte
	EmptyBytes []byte
	// Lines is the BTF line info with the JIT's byte offsets.
	Lines []JitedLine
}

// JitedLine is one line_info record: an instruction and where its code
// starts in the function's image.
type JitedLine struct {
	Slot   int // xlated slot (whole program)
	Insn   int // index into the program's Insns
	Offset int // byte offset in the function's image
	Line   int
	Col    int
}

// MapInfo is one map of capture.json.
type MapInfo struct {
	ID         int
	Name       string // name in the ELF object (".bss" for global data)
	KernelName string // name the kernel reports, "" when not captured
	Type       string
	MaxEntries uint32
	KeySize    uint32
	ValueSize  uint32
	Flags      uint32
	// Address is the struct bpf_map * the image holds and ValueAddress the
	// address of element 0 for map-value loads; 0 when not in the image.
	Address      uint64
	ValueAddress uint64
	// Entries holds the filled slots of a prog array.
	Entries map[uint32]Entry
}

// Entry is a program sitting in a prog-array slot.
type Entry struct {
	Prog    string
	Address uint64 // the program's main image (bpf_func)
	Tag     string
}

// Reference is one relocated field of jited.bin.
type Reference struct {
	Function string // function name
	Offset   int    // instruction start in the function
	Field    int    // first byte of the value in the function
	Size     int
	Kind     string // "call_rel32", "imm64", "blr_imm64", "b", ...
	Target   uint64
	What     string // "map", "map_value", "bpf function", "bpf program", "kernel"
	Symbol   string
	// MapID is the map's id for map and map_value references, else 0
	// (kernel map ids start at 1); ValueOffset the offset into the value.
	MapID       int
	ValueOffset int
	// Insn is the xlated slot of the ld_imm64 behind the field, -1 if none.
	Insn int
}

// Run is one BPF_PROG_TEST_RUN record.
type Run struct {
	Note  string
	Input string // how the input was made
	Data  []byte // the packet
	Ctx   []byte // the context (a struct __sk_buff prefix), nil if none
	// CtxDesc describes Ctx, e.g. "__sk_buff.mark = 1".
	CtxDesc string
	Retval  int64
	// GlobalsAfter holds global variables after the run, by ELF section and
	// variable; GlobalsAfterHex the raw section contents.
	GlobalsAfter    map[string]map[string]int64
	GlobalStrings   map[string]map[string]string // string globals (e.g. format strings)
	GlobalsAfterHex map[string][]byte
	Notes           []string
}

// Error is a problem with one file of a capture directory.
type Error struct {
	Dir  string // the capture directory
	File string // "capture.json", "xlated.bin", ...
	Err  error
}

func (e *Error) Error() string {
	if e.Dir == "" {
		return e.File + ": " + e.Err.Error()
	}
	return e.Dir + ": " + e.File + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// IsCapture reports whether dir holds a capture.json of format
// jitscope-capture/1.
func IsCapture(dir string) bool {
	b, err := readfile.Read(filepath.Join(dir, FileCapture), 0)
	if err != nil {
		return false
	}
	var head struct {
		Format string `json:"format"`
	}
	return json.Unmarshal(b, &head) == nil && head.Format == Format
}

// Find returns the capture directories under root (root itself included),
// sorted.
func Find(root string) ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && IsCapture(path) {
			dirs = append(dirs, path)
		}
		return nil
	})
	sort.Strings(dirs)
	return dirs, err
}

// ProfileName suggests the jitscope profile for the capture's kernel:
// "v" and the kernel's major.minor version ("v6.1", "v6.18").
func (c *Capture) ProfileName() string {
	v := c.Kernel.Version
	if v == "" {
		v = MajorMinor(c.Kernel.Release)
	}
	if v == "" {
		return ""
	}
	return "v" + v
}

// MajorMinor extracts "6.1" from a release like "6.1.0-50-arm64" ("6.18"
// from "6.18.44-fc-v669"); "" when the release does not start that way.
func MajorMinor(release string) string {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 || !allDigits(parts[0]) {
		return ""
	}
	minor := parts[1]
	for i, r := range minor {
		if r < '0' || r > '9' {
			minor = minor[:i]
			break
		}
	}
	if minor == "" {
		return ""
	}
	return parts[0] + "." + minor
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Placement returns the capture's placement (its Set's placement for the
// capture's architecture).
func (c *Capture) Placement() *kernel.Placement {
	return c.Set.Placement(c.Kernel.Arch)
}

// Prog returns the captured program of Set.
func (c *Capture) Prog() *kernel.Program {
	return c.Set.Program(c.Program)
}

// Func returns the function called name (short or kallsyms name), or nil.
func (c *Capture) Func(name string) *FuncBytes {
	for i := range c.Funcs {
		if c.Funcs[i].Name == name || c.Funcs[i].Ksym == name {
			return &c.Funcs[i]
		}
	}
	return nil
}

// Load reads the capture in dir.
func Load(dir string) (*Capture, error) {
	return loadWith(dir, func(name string) ([]byte, error) {
		// readfile refuses devices, FIFOs and huge files in a capture
		// directory; a missing file keeps its path for the message.
		p := filepath.Join(dir, name)
		b, err := readfile.Read(p, 0)
		if errors.Is(err, fs.ErrNotExist) {
			err = &fs.PathError{Op: "open", Path: p, Err: err}
		}
		return b, err
	})
}

// LoadFS reads the capture in directory dir of fsys (an embed.FS, an
// fstest.MapFS, ...). Capture.Dir and Set.Source are dir.
func LoadFS(fsys fs.FS, dir string) (*Capture, error) {
	return loadWith(dir, func(name string) ([]byte, error) {
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		var pe *fs.PathError
		if errors.As(err, &pe) && !errors.Is(err, fs.ErrNotExist) {
			err = pe.Err
		}
		return b, err
	})
}

func loadWith(dir string, read func(name string) ([]byte, error)) (*Capture, error) {
	c, err := load(dir, read)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Dir = dir
			return nil, e
		}
		return nil, &Error{Dir: dir, File: FileCapture, Err: err}
	}
	return c, nil
}

// readFile reads a file of the capture; a missing optional file gives nil.
func readFile(read func(string) ([]byte, error), name string, required bool) ([]byte, error) {
	b, err := read(name)
	if err == nil {
		if b == nil {
			b = []byte{}
		}
		return b, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		if !required {
			return nil, nil
		}
		return nil, &Error{File: name, Err: errMissing}
	}
	return nil, &Error{File: name, Err: err}
}

// errMissing reports a missing required file; it matches fs.ErrNotExist.
var errMissing error = missingError{}

type missingError struct{}

func (missingError) Error() string        { return "missing (every capture has it)" }
func (missingError) Is(target error) bool { return target == fs.ErrNotExist }

func load(dir string, read func(string) ([]byte, error)) (*Capture, error) {
	raw, err := readFile(read, FileCapture, true)
	if err != nil {
		return nil, err
	}
	rc, err := parseJSON(raw)
	if err != nil {
		return nil, &Error{File: FileCapture, Err: err}
	}
	xl, err := readFile(read, FileXlated, true)
	if err != nil {
		return nil, err
	}
	insns, slotIndex, err := decodeXlated(xl)
	if err != nil {
		return nil, &Error{File: FileXlated, Err: err}
	}
	jited, err := readFile(read, FileJited, true)
	if err != nil {
		return nil, err
	}
	empty, err := readFile(read, FileJitedEmpty, false)
	if err != nil {
		return nil, err
	}
	b := &builder{
		dir: dir, rc: rc, insns: insns, slotIndex: slotIndex,
		xlated: xl, jited: jited, empty: empty,
	}
	c, err := b.build()
	if err != nil {
		return nil, err
	}
	c.Raw = json.RawMessage(raw)
	return c, nil
}
