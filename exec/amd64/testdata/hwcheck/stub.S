.intel_syntax noprefix
.text
.globl run_case
run_case:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	mov QWORD PTR ds:0x40800, rsp
	push QWORD PTR ds:0x40780
	popfq
	mov rax, QWORD PTR ds:0x40700
	mov rcx, QWORD PTR ds:0x40708
	mov rdx, QWORD PTR ds:0x40710
	mov rbx, QWORD PTR ds:0x40718
	mov rbp, QWORD PTR ds:0x40728
	mov rsi, QWORD PTR ds:0x40730
	mov rdi, QWORD PTR ds:0x40738
	mov r8, QWORD PTR ds:0x40740
	mov r9, QWORD PTR ds:0x40748
	mov r10, QWORD PTR ds:0x40750
	mov r11, QWORD PTR ds:0x40758
	mov r12, QWORD PTR ds:0x40760
	mov r13, QWORD PTR ds:0x40768
	mov r14, QWORD PTR ds:0x40770
	mov r15, QWORD PTR ds:0x40778
	mov rsp, QWORD PTR ds:0x40720
	jmp QWORD PTR ds:0x40790

.globl exit_stub
exit_stub:
	mov QWORD PTR ds:0x40620, rsp
	mov rsp, 0x41f00
	pushfq
	mov QWORD PTR ds:0x40600, rax
	mov QWORD PTR ds:0x40608, rcx
	mov QWORD PTR ds:0x40610, rdx
	mov QWORD PTR ds:0x40618, rbx
	mov QWORD PTR ds:0x40628, rbp
	mov QWORD PTR ds:0x40630, rsi
	mov QWORD PTR ds:0x40638, rdi
	mov QWORD PTR ds:0x40640, r8
	mov QWORD PTR ds:0x40648, r9
	mov QWORD PTR ds:0x40650, r10
	mov QWORD PTR ds:0x40658, r11
	mov QWORD PTR ds:0x40660, r12
	mov QWORD PTR ds:0x40668, r13
	mov QWORD PTR ds:0x40670, r14
	mov QWORD PTR ds:0x40678, r15
	pop rax
	mov QWORD PTR ds:0x40680, rax
	mov rsp, QWORD PTR ds:0x40800
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret
.section .note.GNU-stack,"",@progbits
