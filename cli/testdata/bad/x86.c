// SPDX-License-Identifier: GPL-2.0-only
// Built with -target x86_64: an ELF for another machine (EM_X86_64).
int prog(void)
{
	return 0;
}
