module github.com/jitscope/jitscope

go 1.26.0

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/charmbracelet/x/term v0.2.2
	github.com/cilium/ebpf v0.22.0
	golang.org/x/arch v0.32.0
)

require (
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)
