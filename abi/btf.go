// SPDX-License-Identifier: GPL-2.0-only

package abi

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf/btf"
)

// FromBTF reads function name's prototype from the BTF of an ELF file (an
// object built with -g, a vmlinux, or a raw BTF blob such as
// /sys/kernel/btf/vmlinux).
//
// BTF records sizes and member offsets but no alignment: a struct's
// alignment is taken as its largest member's, and a member found at an
// offset below its natural alignment marks the struct packed. An
// aligned(N) attribute on a struct leaves no trace in BTF, the limit the
// kernel's trampoline JITs live with too.
func FromBTF(path, name string) (*Func, error) {
	spec, err := btf.LoadSpec(path)
	if err != nil {
		return nil, fmt.Errorf("%s: reading BTF: %w", path, err)
	}
	var fn *btf.Func
	if err := spec.TypeByName(name, &fn); err != nil {
		if errors.Is(err, btf.ErrNotFound) {
			return nil, fmt.Errorf("%s: no function %q in its BTF", path, name)
		}
		return nil, fmt.Errorf("%s: %s: %w", path, name, err)
	}
	proto, ok := fn.Type.(*btf.FuncProto)
	if !ok {
		return nil, fmt.Errorf("%s: %s: BTF function without a prototype", path, name)
	}
	f, err := FromFuncProto(name, proto)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.Source = "BTF of " + path
	return f, nil
}

// FromFuncProto converts a BTF function prototype (a function's, or a
// struct_ops member's function pointer type) named name.
func FromFuncProto(name string, proto *btf.FuncProto) (*Func, error) {
	f := &Func{Name: name, Source: "BTF"}
	var err error
	if f.Ret, err = fromBTFType(proto.Return, 0); err != nil {
		return nil, fmt.Errorf("%s: return type: %w", name, err)
	}
	for i, p := range proto.Params {
		if p.Type == nil {
			return nil, fmt.Errorf("%s is variadic: a BPF trampoline cannot trace it", name)
		}
		t, err := fromBTFType(p.Type, 0)
		if err != nil {
			return nil, fmt.Errorf("%s: argument %d: %w", name, i+1, err)
		}
		f.Args = append(f.Args, Arg{Name: p.Name, Type: t})
	}
	return f, nil
}

func fromBTFType(t btf.Type, depth int) (*Type, error) {
	if depth > 32 {
		return nil, fmt.Errorf("type nesting too deep")
	}
	switch v := t.(type) {
	case nil, *btf.Void:
		return &Type{Name: "void", Kind: Void}, nil
	case *btf.Typedef:
		u, err := fromBTFType(v.Type, depth+1)
		if err != nil {
			return nil, err
		}
		c := *u
		c.Name = v.Name
		return &c, nil
	case *btf.Const:
		return fromBTFType(v.Type, depth+1)
	case *btf.Volatile:
		return fromBTFType(v.Type, depth+1)
	case *btf.Restrict:
		return fromBTFType(v.Type, depth+1)
	case *btf.TypeTag:
		return fromBTFType(v.Type, depth+1)
	case *btf.Pointer:
		name := "void *"
		if tn := btfName(v.Target); tn != "" {
			name = tn + " *"
		}
		return &Type{Name: name, Kind: Pointer, Size: 8, Align: 8}, nil
	case *btf.Int:
		k := Int
		if v.Size == 16 {
			k = Int128
		}
		return &Type{Name: v.Name, Kind: k, Size: int(v.Size), Align: int(v.Size), Signed: v.Encoding&btf.Signed != 0}, nil
	case *btf.Enum:
		return &Type{Name: "enum " + v.Name, Kind: Int, Size: int(v.Size), Align: int(v.Size), Signed: v.Signed}, nil
	case *btf.Float:
		return &Type{Name: v.Name, Kind: Float, Size: int(v.Size), Align: int(v.Size)}, nil
	case *btf.Struct:
		return fromBTFComposite("struct "+v.Name, v.Size, v.Members, false, depth)
	case *btf.Union:
		return fromBTFComposite("union "+v.Name, v.Size, v.Members, true, depth)
	case *btf.Array:
		el, err := fromBTFType(v.Type, depth+1)
		if err != nil {
			return nil, err
		}
		return &Type{Name: fmt.Sprintf("%s[%d]", el.Name, v.Nelems), Kind: Struct, Size: el.Size * int(v.Nelems), Align: el.Align, MemberAlign: el.Align}, nil
	}
	return nil, fmt.Errorf("BTF type %v is not an argument type", t)
}

func btfName(t btf.Type) string {
	for {
		switch v := t.(type) {
		case *btf.Const:
			t = v.Type
			continue
		case *btf.Volatile:
			t = v.Type
			continue
		case *btf.Struct:
			return "struct " + v.Name
		case *btf.Union:
			return "union " + v.Name
		case nil, *btf.Void:
			return "void"
		}
		return t.TypeName()
	}
}

func fromBTFComposite(name string, size uint32, members []btf.Member, union bool, depth int) (*Type, error) {
	t := &Type{Name: name, Kind: Struct, Size: int(size), Union: union, Align: 1}
	for _, m := range members {
		if m.BitfieldSize != 0 {
			// Bit-fields: the storage unit's alignment is not known; take
			// them as bytes, which is what matters for passing.
			continue
		}
		mt, err := fromBTFType(m.Type, depth+1)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", name, m.Name, err)
		}
		off := int(m.Offset.Bytes())
		if mt.Align > 0 && off%mt.Align != 0 {
			t.Unaligned = true
			t.Packed = true
		}
		if mt.Unaligned {
			t.Unaligned = true
		}
		if mt.Align > t.Align {
			t.Align = mt.Align
		}
		t.Members = append(t.Members, Member{Name: m.Name, Type: mt, Offset: off})
	}
	if t.Packed {
		t.Align = 1
	}
	t.MemberAlign = t.Align
	return t, nil
}
