#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Rebuilds the objects of the bad-input tests (cli/badinput_test.go); needs
# clang and libbpf-dev. Built with Debian clang 14.0.6.
set -e
cd "$(dirname "$0")"
for c in ok noprogs unknownsec badmap helper badhelper kfunc extern loop; do
	clang -O2 -g -target bpf -mcpu=v3 -fdebug-prefix-map="$(pwd)"=. -I"/usr/include/$(uname -m)-linux-gnu" -c "$c.c" -o "$c.o"
done
clang -O2 -target x86_64-linux-gnu -c x86.c -o x86.o
