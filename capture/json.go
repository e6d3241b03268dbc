package capture

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// The JSON of capture.json: what LoadFS reads and what live writes for a
// program of the running kernel (EncodeJSON). Fields the format marks
// optional are pointers or nil-able; unknown fields are ignored on reading
// (the format may grow); fields a writer may leave out are omitempty.

// JSONCapture is capture.json.
type JSONCapture struct {
	Format     string            `json:"format"`
	Kernel     *JSONKernel       `json:"kernel"`
	Program    *JSONProgram      `json:"program"`
	Functions  []JSONFunc        `json:"functions"`
	Maps       []JSONMap         `json:"maps"`
	ProgArrays *JSONProgArrays   `json:"prog_arrays"`
	Symbols    map[string]string `json:"symbols"`
	References []JSONRef         `json:"references"`
	Layout     map[string]int    `json:"layout"`
	// Where the layout came from, how the capture was made, and what the
	// writer could not find out.
	LayoutSource string            `json:"layout_source"`
	Origin       map[string]string `json:"origin"`
	Warnings     []string          `json:"warnings,omitempty"`
	Run          []JSONRun         `json:"run,omitempty"`
}

// JSONKernel is capture.json's "kernel".
type JSONKernel struct {
	Name         string                     `json:"name"`
	Arch         string                     `json:"arch"`
	Release      string                     `json:"release"`
	Version      string                     `json:"version"`
	UnameVersion string                     `json:"uname_version"`
	Package      string                     `json:"package,omitempty"`
	Boot         string                     `json:"boot,omitempty"`
	CPU          string                     `json:"cpu"`
	Cmdline      string                     `json:"cmdline,omitempty"`
	Config       map[string]json.RawMessage `json:"config"`
	CPUFeatures  []string                   `json:"cpu_features"`
	Mitigations  map[string]string          `json:"mitigations"`
	Sysctl       map[string]json.RawMessage `json:"sysctl"`
	Observed     *JSONObserved              `json:"observed"`
}

// JSONObserved is what the capture saw in the kernel's own code.
type JSONObserved struct {
	ReturnThunk    *string  `json:"return_thunk"`
	IndirectThunks []string `json:"indirect_thunks"`
}

// JSONProgram is capture.json's "program".
type JSONProgram struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	TypeID      int    `json:"type_id"`
	Tag         string `json:"tag"`
	Source      string `json:"source,omitempty"`
	Section     string `json:"section,omitempty"`
	Scenario    string `json:"scenario"`
	ID          int    `json:"id"`
	XlatedInsns *int   `json:"xlated_insns"`
	JitedLen    *int   `json:"jited_len"`
	Build       string `json:"build,omitempty"`
}

// JSONFunc is one of capture.json's "functions".
type JSONFunc struct {
	Name        string     `json:"name"`
	Ksym        string     `json:"ksym"`
	InsnStart   *int       `json:"insn_start"`
	InsnCount   *int       `json:"insn_count"`
	Address     string     `json:"address"`
	JitedLen    *int       `json:"jited_len"`
	JitedOffset *int       `json:"jited_offset"`
	FuncTag     string     `json:"func_tag,omitempty"`
	Prototype   string     `json:"prototype,omitempty"`
	StackDepth  *int       `json:"stack_depth"`
	LineInfo    []JSONLine `json:"line_info,omitempty"`
}

// JSONLine is one of a function's "line_info".
type JSONLine struct {
	Insn   int `json:"insn"`
	Offset int `json:"offset"`
	Line   int `json:"line"`
	Col    int `json:"col"`
}

// JSONMap is one of capture.json's "maps".
type JSONMap struct {
	ID           int                  `json:"id"`
	Name         string               `json:"name"`
	KernelName   *string              `json:"kernel_name"`
	Type         string               `json:"type"`
	MaxEntries   uint32               `json:"max_entries"`
	KeySize      uint32               `json:"key_size"`
	ValueSize    uint32               `json:"value_size"`
	Flags        uint32               `json:"flags"`
	Address      *string              `json:"address"`
	ValueAddress *string              `json:"value_address"`
	Entries      map[string]JSONEntry `json:"entries,omitempty"`
}

// JSONEntry is a prog array map's entry.
type JSONEntry struct {
	Prog    string `json:"prog"`
	Address string `json:"address"`
	Tag     string `json:"tag"`
}

// JSONProgArrays is capture.json's "prog_arrays".
type JSONProgArrays struct {
	EmptyImage string `json:"empty_image"`
}

// JSONRef is one of capture.json's "references".
type JSONRef struct {
	Function    string `json:"function"`
	Offset      int    `json:"offset"`
	Field       int    `json:"field"`
	Size        int    `json:"size"`
	Kind        string `json:"kind"`
	Target      string `json:"target"`
	What        string `json:"what"`
	Symbol      string `json:"symbol"`
	MapID       *int   `json:"map_id"`
	ValueOffset int    `json:"value_offset"`
	Insn        *int   `json:"insn"`
}

// JSONRun is one of capture.json's "run" records.
type JSONRun struct {
	Note            string                                `json:"note"`
	Input           string                                `json:"input"`
	DataHex         string                                `json:"data_hex"`
	CtxHex          string                                `json:"ctx_hex"`
	Ctx             string                                `json:"ctx"`
	Retval          int64                                 `json:"retval"`
	GlobalsAfter    map[string]map[string]json.RawMessage `json:"globals_after"`
	GlobalsAfterHex map[string]string                     `json:"globals_after_hex"`
	Notes           []string                              `json:"notes"`
}

// EncodeJSON writes c as capture.json: indented by one space, with a
// final newline.
func EncodeJSON(c *JSONCapture) ([]byte, error) {
	b, err := json.MarshalIndent(c, "", " ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// parseJSON decodes capture.json and checks its format.
func parseJSON(b []byte) (*JSONCapture, error) {
	var rc JSONCapture
	if err := json.Unmarshal(b, &rc); err != nil {
		return nil, jsonError(b, err)
	}
	if rc.Format != Format {
		if rc.Format == "" {
			return nil, fmt.Errorf("no \"format\" (want %q)", Format)
		}
		return nil, fmt.Errorf("format %q (want %q)", rc.Format, Format)
	}
	return &rc, nil
}

// jsonError makes encoding/json's errors say where in the file they are.
func jsonError(b []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		// Offset counts the bytes read, the offending one included.
		line, col := lineCol(b, se.Offset-1)
		return fmt.Errorf("line %d col %d: %v", line, col, err)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		line, col := lineCol(b, te.Offset)
		field := te.Field
		if field == "" {
			field = "value"
		}
		return fmt.Errorf("line %d col %d: %s: JSON %s where %s was expected", line, col, field, te.Value, te.Type)
	}
	return err
}

func lineCol(b []byte, off int64) (line, col int) {
	if off < 0 {
		off = 0
	}
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	before := b[:off]
	line = 1 + bytes.Count(before, []byte{'\n'})
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// flatValue turns a JSON config/sysctl value into a string: strings as they
// are, numbers as written, booleans as "y"/"n"; ok is false for null.
func flatValue(m json.RawMessage) (v string, ok bool, err error) {
	t := bytes.TrimSpace(m)
	switch {
	case len(t) == 0 || string(t) == "null":
		return "", false, nil
	case t[0] == '"':
		var s string
		if err := json.Unmarshal(t, &s); err != nil {
			return "", false, err
		}
		return s, true, nil
	case string(t) == "true":
		return "y", true, nil
	case string(t) == "false":
		return "n", true, nil
	case t[0] == '-' || (t[0] >= '0' && t[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(t, &n); err != nil {
			return "", false, err
		}
		return n.String(), true, nil
	}
	return "", false, fmt.Errorf("want a string, number, boolean or null, not %.20s", t)
}

// parseAddr parses a kernel address "0x%016x".
func parseAddr(s string) (uint64, error) {
	if len(s) < 3 || (s[:2] != "0x" && s[:2] != "0X") {
		return 0, fmt.Errorf("bad address %q (want \"0x\" and hex digits)", s)
	}
	v, err := strconv.ParseUint(s[2:], 16, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("bad address %q (more than 64 bits)", s)
		}
		return 0, fmt.Errorf("bad address %q (not a hex number)", s)
	}
	return v, nil
}
