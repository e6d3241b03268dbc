// SPDX-License-Identifier: GPL-2.0-only

package live

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// progInfo is struct bpf_prog_info (include/uapi/linux/bpf.h, 6.18) up to
// attach_btf_id. It is read with BPF_OBJ_GET_INFO_BY_FD directly rather
// than through cilium/ebpf's ProgramInfo, because the raw xlated bytes are
// needed as the kernel wrote them: cilium decodes them on the way and
// refuses helper calls whose imm (address − __bpf_call_base) does not fit
// its platform-tagged helper ids.
type progInfo struct {
	Type                 uint32
	ID                   uint32
	Tag                  [8]uint8
	JitedProgLen         uint32
	XlatedProgLen        uint32
	JitedProgInsns       uint64
	XlatedProgInsns      uint64
	LoadTime             uint64
	CreatedByUID         uint32
	NrMapIDs             uint32
	MapIDs               uint64
	Name                 [16]byte
	Ifindex              uint32
	GPLCompatible        uint32
	NetnsDev             uint64
	NetnsIno             uint64
	NrJitedKsyms         uint32
	NrJitedFuncLens      uint32
	JitedKsyms           uint64
	JitedFuncLens        uint64
	BTFID                uint32
	FuncInfoRecSize      uint32
	FuncInfo             uint64
	NrFuncInfo           uint32
	NrLineInfo           uint32
	LineInfo             uint64
	JitedLineInfo        uint64
	NrJitedLineInfo      uint32
	LineInfoRecSize      uint32
	JitedLineInfoRecSize uint32
	NrProgTags           uint32
	ProgTags             uint64
	RunTimeNs            uint64
	RunCnt               uint64
	RecursionMisses      uint64
	VerifiedInsns        uint32
	AttachBTFObjID       uint32
	AttachBTFID          uint32
	_                    uint32
}

// RawInfo is everything BPF_OBJ_GET_INFO_BY_FD tells about one program,
// with the variable-length arrays filled in.
type RawInfo struct {
	Type          uint32
	ID            uint32
	Tag           string // hex
	Name          string
	LoadTime      uint64 // ns since boot
	CreatedByUID  uint32
	BTFID         uint32
	VerifiedInsns uint32
	Xlated        []byte   // xlated_prog_insns
	Jited         []byte   // jited_prog_insns
	MapIDs        []uint32 // map_ids
	Ksyms         []uint64 // jited_ksyms: load address of each function
	FuncLens      []uint32 // jited_func_lens
	FuncInfo      []byte   // func_info records (FuncInfoRecSize each)
	FuncInfoSize  uint32
	LineInfo      []byte // line_info records (LineInfoRecSize each)
	LineInfoSize  uint32
	JitedLines    []uint64 // jited_line_info: address of each line_info record's code
	ProgTags      [][8]byte
}

const bpfObjGetInfoByFD = 15 // enum bpf_cmd: BPF_OBJ_GET_INFO_BY_FD

func objInfo(fd int, info *progInfo) error {
	attr := struct {
		fd      uint32
		infoLen uint32
		info    uint64
	}{uint32(fd), uint32(unsafe.Sizeof(*info)), uint64(uintptr(unsafe.Pointer(info)))}
	_, _, errno := unix.Syscall(unix.SYS_BPF, bpfObjGetInfoByFD, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	runtime.KeepAlive(info)
	if errno != 0 {
		return errno
	}
	return nil
}

func ptr[T any](s []T) uint64 {
	if len(s) == 0 {
		return 0
	}
	return uint64(uintptr(unsafe.Pointer(&s[0])))
}

// readInfo reads the info of the program behind fd in two calls: one for
// the lengths, one with buffers of those lengths.
func readInfo(fd int) (*RawInfo, error) {
	var first progInfo
	if err := objInfo(fd, &first); err != nil {
		return nil, fmt.Errorf("BPF_OBJ_GET_INFO_BY_FD: %w", err)
	}
	r := &RawInfo{
		Type: first.Type, ID: first.ID, Tag: hex.EncodeToString(first.Tag[:]),
		Name: unix.ByteSliceToString(first.Name[:]), LoadTime: first.LoadTime,
		CreatedByUID: first.CreatedByUID, BTFID: first.BTFID, VerifiedInsns: first.VerifiedInsns,
		Xlated:       make([]byte, first.XlatedProgLen),
		Jited:        make([]byte, first.JitedProgLen),
		MapIDs:       make([]uint32, first.NrMapIDs),
		Ksyms:        make([]uint64, first.NrJitedKsyms),
		FuncLens:     make([]uint32, first.NrJitedFuncLens),
		FuncInfo:     make([]byte, first.NrFuncInfo*first.FuncInfoRecSize),
		FuncInfoSize: first.FuncInfoRecSize,
		LineInfo:     make([]byte, first.NrLineInfo*first.LineInfoRecSize),
		LineInfoSize: first.LineInfoRecSize,
		JitedLines:   make([]uint64, first.NrJitedLineInfo),
	}
	tags := make([]byte, 8*first.NrProgTags)
	second := progInfo{
		XlatedProgLen: first.XlatedProgLen, XlatedProgInsns: ptr(r.Xlated),
		JitedProgLen: first.JitedProgLen, JitedProgInsns: ptr(r.Jited),
		NrMapIDs: first.NrMapIDs, MapIDs: ptr(r.MapIDs),
		NrJitedKsyms: first.NrJitedKsyms, JitedKsyms: ptr(r.Ksyms),
		NrJitedFuncLens: first.NrJitedFuncLens, JitedFuncLens: ptr(r.FuncLens),
		NrFuncInfo: first.NrFuncInfo, FuncInfoRecSize: first.FuncInfoRecSize, FuncInfo: ptr(r.FuncInfo),
		NrLineInfo: first.NrLineInfo, LineInfoRecSize: first.LineInfoRecSize, LineInfo: ptr(r.LineInfo),
		NrJitedLineInfo: first.NrJitedLineInfo, JitedLineInfoRecSize: first.JitedLineInfoRecSize, JitedLineInfo: ptr(r.JitedLines),
		NrProgTags: first.NrProgTags, ProgTags: ptr(tags),
	}
	if first.NrJitedLineInfo > 0 && first.JitedLineInfoRecSize != 8 {
		return nil, fmt.Errorf("jited_line_info records of %d bytes (want 8)", first.JitedLineInfoRecSize)
	}
	err := objInfo(fd, &second)
	runtime.KeepAlive(r)
	runtime.KeepAlive(tags)
	if err != nil {
		return nil, fmt.Errorf("BPF_OBJ_GET_INFO_BY_FD: %w", err)
	}
	if second.XlatedProgLen != first.XlatedProgLen || second.JitedProgLen != first.JitedProgLen {
		return nil, fmt.Errorf("program changed between two BPF_OBJ_GET_INFO_BY_FD calls")
	}
	for i := 0; i+8 <= len(tags); i += 8 {
		var t [8]byte
		copy(t[:], tags[i:])
		r.ProgTags = append(r.ProgTags, t)
	}
	return r, nil
}

// funcInfo is one struct bpf_func_info record.
type funcInfo struct{ InsnOff, TypeID uint32 }

// lineInfo is one struct bpf_line_info record.
type lineInfo struct{ InsnOff, FileNameOff, LineOff, LineCol uint32 }

func (r *RawInfo) funcInfos() []funcInfo {
	var out []funcInfo
	for i := 0; r.FuncInfoSize >= 8 && i+int(r.FuncInfoSize) <= len(r.FuncInfo); i += int(r.FuncInfoSize) {
		b := r.FuncInfo[i:]
		out = append(out, funcInfo{binary.NativeEndian.Uint32(b), binary.NativeEndian.Uint32(b[4:])})
	}
	return out
}

func (r *RawInfo) lineInfos() []lineInfo {
	var out []lineInfo
	for i := 0; r.LineInfoSize >= 16 && i+int(r.LineInfoSize) <= len(r.LineInfo); i += int(r.LineInfoSize) {
		b := r.LineInfo[i:]
		out = append(out, lineInfo{binary.NativeEndian.Uint32(b), binary.NativeEndian.Uint32(b[4:]),
			binary.NativeEndian.Uint32(b[8:]), binary.NativeEndian.Uint32(b[12:])})
	}
	return out
}
