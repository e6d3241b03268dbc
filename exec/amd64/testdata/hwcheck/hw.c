#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <asm/prctl.h>

void run_case(void);
void exit_stub(void);

static void *mapfix(uint64_t a, size_t n, int prot) {
	void *p = mmap((void *)a, n, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED) { perror("mmap"); exit(3); }
	return p;
}

/* stdin line: name codehex exit_rip gsbase flags r0..r15 nmem (addr size val)* nwant (addr size)* */
int main(void) {
	char line[1 << 16];
	while (fgets(line, sizeof line, stdin)) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			char *save; char *name = strtok_r(line, " \n", &save);
			char *hex = strtok_r(NULL, " \n", &save);
			uint64_t exitrip = strtoull(strtok_r(NULL, " \n", &save), 0, 0);
			uint64_t gsbase = strtoull(strtok_r(NULL, " \n", &save), 0, 0);
			uint64_t flags = strtoull(strtok_r(NULL, " \n", &save), 0, 0);
			mapfix(0x1000, 0x2000, PROT_READ | PROT_WRITE | PROT_EXEC);
			mapfix(0x10000, 0x20000, PROT_READ | PROT_WRITE);
			mapfix(0x40000, 0x2000, PROT_READ | PROT_WRITE);
			volatile uint64_t *in = (uint64_t *)0x40700;
			for (int i = 0; i < 16; i++) in[i] = strtoull(strtok_r(NULL, " \n", &save), 0, 0);
			*(uint64_t *)0x40780 = flags | 2;
			*(uint64_t *)0x40790 = 0x1000;
			size_t n = strlen(hex) / 2;
			for (size_t i = 0; i < n; i++) { unsigned v; sscanf(hex + 2 * i, "%2x", &v); ((uint8_t *)0x1000)[i] = v; }
			int nmem = atoi(strtok_r(NULL, " \n", &save));
			for (int i = 0; i < nmem; i++) {
				uint64_t a = strtoull(strtok_r(NULL, " \n", &save), 0, 0);
				int sz = atoi(strtok_r(NULL, " \n", &save));
				uint64_t v = strtoull(strtok_r(NULL, " \n", &save), 0, 0);
				memcpy((void *)a, &v, sz);
			}
			uint8_t *e = (uint8_t *)exitrip;
			e[0] = 0xff; e[1] = 0x25; e[2] = e[3] = e[4] = e[5] = 0;
			uint64_t es = (uint64_t)exit_stub; memcpy(e + 6, &es, 8);
			int nwant = atoi(strtok_r(NULL, " \n", &save));
			uint64_t wa[64]; int ws[64];
			for (int i = 0; i < nwant; i++) {
				wa[i] = strtoull(strtok_r(NULL, " \n", &save), 0, 0);
				ws[i] = atoi(strtok_r(NULL, " \n", &save));
			}
			if (gsbase) syscall(SYS_arch_prctl, ARCH_SET_GS, gsbase);
			run_case();
			uint64_t *out = (uint64_t *)0x40600;
			printf("%s", name);
			for (int i = 0; i < 16; i++) printf(" %#lx", out[i]);
			printf(" %#lx", out[16]);
			for (int i = 0; i < nwant; i++) { uint64_t v = 0; memcpy(&v, (void *)wa[i], ws[i]); printf(" %#lx", v); }
			printf("\n");
			fflush(stdout);
			_exit(0);
		}
		int st; waitpid(pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			char *sp = strchr(line, ' '); if (sp) *sp = 0;
			printf("%s CRASH %d\n", line, st);
		}
	}
	return 0;
}
