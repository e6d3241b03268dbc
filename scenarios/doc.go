// SPDX-License-Identifier: GPL-2.0-only

// Package scenarios loads what jitscope shows: scenario files (.scn), the
// built-in scenarios embedded in the binary, and BPF ELF objects. Each
// becomes a kernel.Set: programs with their functions and symbolic
// references, maps and prog arrays, and per-architecture placements that pin
// addresses, struct offsets and kernel configuration so that a document's
// listing is reproduced at its own addresses. A directory (a kernel capture)
// is not loaded here: Load answers it with a *NeedCapture error.
//
// # Scenario files
//
// A scenario file is TOML:
//
//	name = "bpf2bpf-tailcall"
//	description = """
//	First line: a one-line summary, shown by `jitscope list`.
//	More lines tell the story."""
//	entry = "entry"                  # program run by default (else the first)
//
//	[[program]]
//	name = "entry"
//	type = "sched_cls"               # libbpf's name of the program type
//	prototypes = { entry = "int entry(struct __sk_buff *skb)" }
//	stack_depth = { entry = 8 }      # optional; otherwise computed as the verifier does
//	asm = """
//	entry:
//		w2 = 0
//		call subprog_tail
//		exit
//	subprog_tail:
//		r2 = map[jmp_table]
//		r3 = 0
//		call bpf_tail_call
//		exit
//	"""
//
//	[[map]]
//	name = "jmp_table"
//	type = "prog_array"
//	max_entries = 1                  # key_size and value_size default to 4
//	entries = { "0" = "classifier_0" }
//
//	[[map]]
//	name = ".bss"                    # global data: an array map, type may be left out
//	value_size = 4
//	data = "00000000"                # or [0, 0, 0, 0]
//
//	[arch.arm64]
//	kernel = "bpf-next, June 2022"
//	profile = "bpf-next-2022-06"     # JIT profile used when --profile is not given
//	funcs = { entry = "0xffffffc0090151d4" }   # or "program/function"
//	maps = { jmp_table = "0xffffff80c0334e00" }     # struct bpf_map
//	values = { ".bss" = "0xffffffc008fc6000" }      # first value of an array map
//	symbols = { __bpf_call_base = "0xffffffc008230000" }
//	layout = { "bpf_array.ptrs" = 0x110 }
//	config = { CONFIG_ARM64_BTI_KERNEL = "y" }
//
// Beyond the code, a scenario may carry what a run and a story need:
//
//	[[program]]                      # an freplace program (BPF_PROG_TYPE_EXT)
//	name = "acl"
//	type = "ext"
//	target = "dispatcher/subprog1"   # required for ext: the function it replaces
//	attach = true                    # an freplace link attaches it after loading
//	# also: jited = false, xdp_frags = true, dev_bound = true,
//	# expected_attach_type = "xdp" (default: libbpf's for the type)
//
//	packet = "02 00 00 00 00 01 ..." # one packet (hex or an array of bytes), or
//	[packets]                        # named packets, the first is the default:
//	tcp = """020000000001 ..."""     # jitscope run NAME --packet tcp
//	udp = """020000000001 ..."""
//
//	[[tour]]                         # a guided tour: one table per stop, in order
//	text = """One paragraph saying what the stop shows."""
//	arch = "arm64"                   # arch, profile, entry, packet and slots
//	profile = "bpf-next-2022-06"     # are inherited by the stops that follow
//	function = "entry"               # the cursor: function ("prog/func") + offset,
//	offset = 0x24                    # or address = "0x...", or step = 58 (a run
//	panes = ["listing", "registers"] # step) or step = "tail_call#2" (an event)
//	# also: entry = "acl", packet = "udp", slots = ["jmp_table[0]=target"]
//
// Programs load in file order (the compatibility model of kernel/compat.go
// plays that order: loads, attachments, then the prog array entries as
// updates), so an extension's target comes before it. A built-in scenario
// whose .scn has no [[tour]] may keep it beside it in builtin/NAME.tour.toml
// ([[tour]] tables only); Show appends it, so the printed text is one file.
// TourPanes lists the pane names; an event step names a run event kind
// (call, return, tail_call, tail_call_miss, tcc, helper, poke, freplace).
// Every built-in scenario carries a tour; session.ResolveTour places the
// stops for the TUI (t), `jitscope show NAME --tour` and recordings.
//
// A run of a scenario with extension programs plays its plan on the
// profile's kernel first (session.Target.NewMachine): an attachment the
// kernel allows patches the target function's entry into a jump to the
// extension, a slot update it refuses leaves the slot empty.
//
// The assembly is the llvm-objdump syntax that package bpfasm reads. Labels
// name functions: the program's first instruction is its main function
// (named after the program; a first label must use that name), and every
// label a "call" targets starts a subprogram. Addresses are strings
// ("0xffffffc0090151d4") or, where they fit in TOML's int64, integers.
//
// Every error names the file and the line of the offending key, table or
// assembly line, on one line: "file:line: reason".
package scenarios
