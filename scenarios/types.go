// SPDX-License-Identifier: GPL-2.0-only

package scenarios

import (
	"slices"

	"github.com/cilium/ebpf"
)

// progTypes lists the program types a scenario may name, as libbpf and
// bpftool spell them: enum bpf_prog_type (include/uapi/linux/bpf.h) without
// the BPF_PROG_TYPE_ prefix, in lower case.
var progTypes = map[ebpf.ProgramType]string{
	ebpf.SocketFilter:          "socket_filter",
	ebpf.Kprobe:                "kprobe",
	ebpf.SchedCLS:              "sched_cls",
	ebpf.SchedACT:              "sched_act",
	ebpf.TracePoint:            "tracepoint",
	ebpf.XDP:                   "xdp",
	ebpf.PerfEvent:             "perf_event",
	ebpf.CGroupSKB:             "cgroup_skb",
	ebpf.CGroupSock:            "cgroup_sock",
	ebpf.LWTIn:                 "lwt_in",
	ebpf.LWTOut:                "lwt_out",
	ebpf.LWTXmit:               "lwt_xmit",
	ebpf.SockOps:               "sock_ops",
	ebpf.SkSKB:                 "sk_skb",
	ebpf.CGroupDevice:          "cgroup_device",
	ebpf.SkMsg:                 "sk_msg",
	ebpf.RawTracepoint:         "raw_tracepoint",
	ebpf.CGroupSockAddr:        "cgroup_sock_addr",
	ebpf.LWTSeg6Local:          "lwt_seg6local",
	ebpf.LircMode2:             "lirc_mode2",
	ebpf.SkReuseport:           "sk_reuseport",
	ebpf.FlowDissector:         "flow_dissector",
	ebpf.CGroupSysctl:          "cgroup_sysctl",
	ebpf.RawTracepointWritable: "raw_tracepoint_writable",
	ebpf.CGroupSockopt:         "cgroup_sockopt",
	ebpf.Tracing:               "tracing",
	ebpf.StructOps:             "struct_ops",
	ebpf.Extension:             "ext",
	ebpf.LSM:                   "lsm",
	ebpf.SkLookup:              "sk_lookup",
	ebpf.Syscall:               "syscall",
	ebpf.Netfilter:             "netfilter",
}

// mapTypes lists the map types a scenario may name: enum bpf_map_type
// (include/uapi/linux/bpf.h) without the BPF_MAP_TYPE_ prefix, in lower case.
var mapTypes = map[ebpf.MapType]string{
	ebpf.Hash:                "hash",
	ebpf.Array:               "array",
	ebpf.ProgramArray:        "prog_array",
	ebpf.PerfEventArray:      "perf_event_array",
	ebpf.PerCPUHash:          "percpu_hash",
	ebpf.PerCPUArray:         "percpu_array",
	ebpf.StackTrace:          "stack_trace",
	ebpf.CGroupArray:         "cgroup_array",
	ebpf.LRUHash:             "lru_hash",
	ebpf.LRUCPUHash:          "lru_percpu_hash",
	ebpf.LPMTrie:             "lpm_trie",
	ebpf.ArrayOfMaps:         "array_of_maps",
	ebpf.HashOfMaps:          "hash_of_maps",
	ebpf.DevMap:              "devmap",
	ebpf.SockMap:             "sockmap",
	ebpf.CPUMap:              "cpumap",
	ebpf.XSKMap:              "xskmap",
	ebpf.SockHash:            "sockhash",
	ebpf.CGroupStorage:       "cgroup_storage",
	ebpf.ReusePortSockArray:  "reuseport_sockarray",
	ebpf.PerCPUCGroupStorage: "percpu_cgroup_storage",
	ebpf.Queue:               "queue",
	ebpf.Stack:               "stack",
	ebpf.SkStorage:           "sk_storage",
	ebpf.DevMapHash:          "devmap_hash",
	ebpf.StructOpsMap:        "struct_ops",
	ebpf.RingBuf:             "ringbuf",
	ebpf.InodeStorage:        "inode_storage",
	ebpf.TaskStorage:         "task_storage",
	ebpf.BloomFilter:         "bloom_filter",
	ebpf.UserRingbuf:         "user_ringbuf",
	ebpf.CgroupStorage:       "cgrp_storage",
	ebpf.Arena:               "arena",
}

// knownName reports whether name is one of the values of m.
func knownName[K comparable](m map[K]string, name string) bool {
	for _, v := range m {
		if v == name {
			return true
		}
	}
	return false
}

// sortedNames returns the values of m in sorted order, for error messages.
func sortedNames[K comparable](m map[K]string) []string {
	var s []string
	for _, v := range m {
		s = append(s, v)
	}
	slices.Sort(s)
	return s
}

// LayoutKeys are the struct offsets a placement's layout table may pin
// (what kernel.Load reads from Placement.Layout).
var LayoutKeys = []string{
	"bpf_array.map.max_entries", // offsetof(struct bpf_array, map.max_entries)
	"bpf_array.ptrs",            // offsetof(struct bpf_array, ptrs)
	"bpf_array.value",           // offsetof(struct bpf_array, value)
	"bpf_prog.bpf_func",         // offsetof(struct bpf_prog, bpf_func)
	"thread_info.cpu",           // offsetof(struct thread_info, cpu) (arm64 6.12+ inlines bpf_get_smp_processor_id)
}

// isSectionMap reports whether a map name is a global data section, which
// libbpf turns into a single-entry array map.
func isSectionMap(name string) bool {
	for _, p := range []string{".bss", ".data", ".rodata"} {
		if name == p || len(name) > len(p) && name[:len(p)+1] == p+"." {
			return true
		}
	}
	return false
}
