// Package mem is the emulated address space the CPU emulators and the BPF
// interpreter share: a sparse, little-endian memory of 4 KiB pages with
// named regions, limits, and a journal of writes so that execution can be
// stepped backwards.
package mem

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// PageSize is the granule of the sparse memory.
const PageSize = 4096

// Perm says what a region allows.
type Perm uint8

// Region permissions.
const (
	Read Perm = 1 << iota
	Write
	Exec
)

// Region is a named, mapped range [Start, End).
type Region struct {
	Name       string
	Start, End uint64
	Perm       Perm
}

// Fault is an access the memory refuses: unmapped, misaligned beyond what
// the CPU allows, or against the region's permissions.
type Fault struct {
	Addr uint64
	Size int
	Op   string // "read", "write", "fetch"
	Why  string
}

func (f *Fault) Error() string {
	return fmt.Sprintf("%s of %d bytes at %#x: %s", f.Op, f.Size, f.Addr, f.Why)
}

// ErrLimit is returned when mapping would exceed the memory limit.
var ErrLimit = errors.New("emulated memory limit reached")

// Write is one journal entry: the bytes a store replaced.
type WriteRecord struct {
	Addr uint64
	Old  []byte
	New  []byte
}

// Memory is a sparse little-endian address space.
type Memory struct {
	pages   map[uint64]*[PageSize]byte
	regions []Region // sorted by Start
	limit   int      // maximum number of pages
	journal []WriteRecord
	record  bool
}

// New returns an empty memory that maps at most limitBytes (rounded up to
// pages); 0 means 256 MiB.
func New(limitBytes int) *Memory {
	if limitBytes <= 0 {
		limitBytes = 256 << 20
	}
	return &Memory{pages: map[uint64]*[PageSize]byte{}, limit: (limitBytes + PageSize - 1) / PageSize}
}

// Map makes [start, start+size) accessible with perm. Regions may not overlap.
func (m *Memory) Map(name string, start, size uint64, perm Perm) error {
	if size == 0 {
		return fmt.Errorf("map %s: empty region", name)
	}
	end := start + size
	if end < start {
		return fmt.Errorf("map %s: region wraps around the address space", name)
	}
	for _, r := range m.regions {
		if start < r.End && r.Start < end {
			return fmt.Errorf("map %s [%#x, %#x): overlaps %s [%#x, %#x)", name, start, end, r.Name, r.Start, r.End)
		}
	}
	// More pages than the limit allows are refused before they are
	// counted: a region of 2^40 bytes must not take 2^28 iterations.
	if size/PageSize > uint64(m.limit) {
		return fmt.Errorf("mapping %s (%d bytes): %w (%s)", name, size, ErrLimit, m.limitText())
	}
	need := 0
	for p := start &^ (PageSize - 1); p < end; p += PageSize {
		if m.pages[p] == nil {
			need++
		}
		if p+PageSize < p {
			break
		}
	}
	if len(m.pages)+need > m.limit {
		return fmt.Errorf("mapping %s (%d bytes): %w (%s)", name, size, ErrLimit, m.limitText())
	}
	for p := start &^ (PageSize - 1); p < end; p += PageSize {
		if m.pages[p] == nil {
			m.pages[p] = new([PageSize]byte)
		}
		if p+PageSize < p {
			break
		}
	}
	m.regions = append(m.regions, Region{Name: name, Start: start, End: end, Perm: perm})
	sort.Slice(m.regions, func(i, j int) bool { return m.regions[i].Start < m.regions[j].Start })
	return nil
}

// limitText says how much is mapped of how much is allowed.
func (m *Memory) limitText() string {
	return fmt.Sprintf("%d KiB mapped, %d KiB allowed", len(m.pages)*PageSize>>10, m.limit*PageSize>>10)
}

// Limit is the number of bytes the memory may map.
func (m *Memory) Limit() int { return m.limit * PageSize }

// Mapped is the number of bytes mapped.
func (m *Memory) Mapped() int { return len(m.pages) * PageSize }

// RegionAt returns the region containing addr.
func (m *Memory) RegionAt(addr uint64) (Region, bool) {
	i := sort.Search(len(m.regions), func(i int) bool { return m.regions[i].End > addr })
	if i < len(m.regions) && m.regions[i].Start <= addr {
		return m.regions[i], true
	}
	return Region{}, false
}

// Regions lists the mapped regions in address order.
func (m *Memory) Regions() []Region { return append([]Region(nil), m.regions...) }

func (m *Memory) check(addr uint64, n int, op string, want Perm) error {
	r, ok := m.RegionAt(addr)
	if !ok {
		return &Fault{Addr: addr, Size: n, Op: op, Why: "unmapped"}
	}
	if addr+uint64(n) > r.End || addr+uint64(n) < addr {
		// Accesses may span adjacent regions with the same permission.
		if next, ok := m.RegionAt(r.End); !ok || next.Start != r.End || addr+uint64(n) > next.End || next.Perm&want == 0 {
			return &Fault{Addr: addr, Size: n, Op: op, Why: "crosses the end of " + r.Name}
		}
	}
	if r.Perm&want == 0 {
		return &Fault{Addr: addr, Size: n, Op: op, Why: "not permitted in " + r.Name}
	}
	return nil
}

func (m *Memory) byteAt(addr uint64) *byte {
	p := m.pages[addr&^(PageSize-1)]
	return &p[addr&(PageSize-1)]
}

// copyOut copies len(b) mapped bytes at addr into b, a page at a time.
func (m *Memory) copyOut(b []byte, addr uint64) {
	for len(b) > 0 {
		p := m.pages[addr&^(PageSize-1)]
		n := copy(b, p[addr&(PageSize-1):])
		b, addr = b[n:], addr+uint64(n)
	}
}

// copyIn copies b to the mapped bytes at addr, a page at a time.
func (m *Memory) copyIn(addr uint64, b []byte) {
	for len(b) > 0 {
		p := m.pages[addr&^(PageSize-1)]
		n := copy(p[addr&(PageSize-1):], b)
		b, addr = b[n:], addr+uint64(n)
	}
}

// ReadBytes copies n bytes at addr.
func (m *Memory) ReadBytes(addr uint64, n int) ([]byte, error) {
	if err := m.check(addr, n, "read", Read); err != nil {
		return nil, err
	}
	b := make([]byte, n)
	m.copyOut(b, addr)
	return b, nil
}

// Fetch reads n instruction bytes at addr (the region must be executable).
func (m *Memory) Fetch(addr uint64, n int) ([]byte, error) {
	if err := m.check(addr, n, "fetch", Exec); err != nil {
		return nil, err
	}
	b := make([]byte, n)
	m.copyOut(b, addr)
	return b, nil
}

// Load reads a little-endian value of size 1, 2, 4 or 8 bytes.
func (m *Memory) Load(addr uint64, size int) (uint64, error) {
	if err := m.check(addr, size, "read", Read); err != nil {
		return 0, err
	}
	if off := addr & (PageSize - 1); off+uint64(size) <= PageSize {
		p := m.pages[addr&^(PageSize-1)][off:]
		switch size {
		case 1:
			return uint64(p[0]), nil
		case 2:
			return uint64(binary.LittleEndian.Uint16(p)), nil
		case 4:
			return uint64(binary.LittleEndian.Uint32(p)), nil
		case 8:
			return binary.LittleEndian.Uint64(p), nil
		}
	}
	var v uint64
	for i := size - 1; i >= 0; i-- {
		v = v<<8 | uint64(*m.byteAt(addr + uint64(i)))
	}
	return v, nil
}

// Store writes a little-endian value of size 1, 2, 4 or 8 bytes.
func (m *Memory) Store(addr uint64, size int, val uint64) error {
	if err := m.check(addr, size, "write", Write); err != nil {
		return err
	}
	m.put(addr, size, val)
	return nil
}

// WriteBytes writes b at addr regardless of permissions: the loader and
// text_poke use it, as the kernel writes read-only text through an alias.
func (m *Memory) WriteBytes(addr uint64, b []byte) error {
	if _, ok := m.RegionAt(addr); !ok {
		return &Fault{Addr: addr, Size: len(b), Op: "write", Why: "unmapped"}
	}
	if m.record {
		old := make([]byte, len(b))
		m.copyOut(old, addr)
		m.journal = append(m.journal, WriteRecord{Addr: addr, Old: old, New: append([]byte(nil), b...)})
	}
	m.copyIn(addr, b)
	return nil
}

func (m *Memory) put(addr uint64, size int, val uint64) {
	if m.record {
		old := make([]byte, size)
		nw := make([]byte, size)
		for i := 0; i < size; i++ {
			old[i] = *m.byteAt(addr + uint64(i))
			nw[i] = byte(val >> (8 * i))
		}
		m.journal = append(m.journal, WriteRecord{Addr: addr, Old: old, New: nw})
	}
	if off := addr & (PageSize - 1); off+uint64(size) <= PageSize {
		p := m.pages[addr&^(PageSize-1)][off:]
		switch size {
		case 1:
			p[0] = byte(val)
			return
		case 2:
			binary.LittleEndian.PutUint16(p, uint16(val))
			return
		case 4:
			binary.LittleEndian.PutUint32(p, uint32(val))
			return
		case 8:
			binary.LittleEndian.PutUint64(p, val)
			return
		}
	}
	for i := 0; i < size; i++ {
		*m.byteAt(addr + uint64(i)) = byte(val >> (8 * i))
	}
}

// Record turns the write journal on or off.
func (m *Memory) Record(on bool) { m.record = on }

// Journal returns and clears the writes recorded since the last call.
func (m *Memory) Journal() []WriteRecord {
	j := m.journal
	m.journal = nil
	return j
}

// Undo reverts writes (most recent last in the slice), restoring old bytes.
func (m *Memory) Undo(writes []WriteRecord) {
	for i := len(writes) - 1; i >= 0; i-- {
		w := writes[i]
		for j, c := range w.Old {
			*m.byteAt(w.Addr + uint64(j)) = c
		}
	}
}
