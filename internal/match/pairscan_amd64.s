//go:build !purego

#include "textflag.h"

// func pairIndexAVX2(p1, p2 *byte, n int, b1, b2, m1, m2 byte) (i, lines int)
//
// Y0/Y1: b1/b2 in every byte, Y2/Y3: m1/m2 in every byte. A position is a
// candidate when (p1[i]|m1) == b1 and (p2[i]|m2) == b2: VPOR, VPCMPEQB at
// both offsets, VPAND; VPMOVMSKB turns the 32 results into a bit mask whose
// lowest set bit is the first candidate. n is a multiple of 32.
//
// R9 counts the '\n' of p1 before the result (Y9: '\n' in every byte,
// compared before the OR with m1): POPCNT of their masks, the last one
// cut below the candidate.
TEXT ·pairIndexAVX2(SB), NOSPLIT, $0-48
	MOVQ p1+0(FP), SI
	MOVQ p2+8(FP), DI
	MOVQ n+16(FP), CX
	MOVBLZX b1+24(FP), AX
	MOVQ AX, X0
	VPBROADCASTB X0, Y0
	MOVBLZX b2+25(FP), AX
	MOVQ AX, X1
	VPBROADCASTB X1, Y1
	MOVBLZX m1+26(FP), AX
	MOVQ AX, X2
	VPBROADCASTB X2, Y2
	MOVBLZX m2+27(FP), AX
	MOVQ AX, X3
	VPBROADCASTB X3, Y3
	MOVL $0x0a, AX
	MOVQ AX, X9
	VPBROADCASTB X9, Y9
	XORQ BX, BX
	XORQ R9, R9

	// 64 positions per step: four independent loads hide their latency.
loop64:
	LEAQ 64(BX), DX
	CMPQ DX, CX
	JA   loop32
	VMOVDQU (SI)(BX*1), Y4
	VMOVDQU 32(SI)(BX*1), Y5
	VMOVDQU (DI)(BX*1), Y6
	VMOVDQU 32(DI)(BX*1), Y7
	VPCMPEQB Y9, Y4, Y10
	VPCMPEQB Y9, Y5, Y11
	VPOR    Y2, Y4, Y4
	VPOR    Y2, Y5, Y5
	VPOR    Y3, Y6, Y6
	VPOR    Y3, Y7, Y7
	VPCMPEQB Y0, Y4, Y4
	VPCMPEQB Y0, Y5, Y5
	VPCMPEQB Y1, Y6, Y6
	VPCMPEQB Y1, Y7, Y7
	VPAND   Y4, Y6, Y6
	VPAND   Y5, Y7, Y7
	VPOR    Y6, Y7, Y8
	VPTEST  Y8, Y8
	JNZ     found64
	VPMOVMSKB Y10, AX
	VPMOVMSKB Y11, R8
	POPCNTL AX, AX
	POPCNTL R8, R8
	ADDQ    AX, R9
	ADDQ    R8, R9
	MOVQ    DX, BX
	JMP     loop64

found64:
	VPMOVMSKB Y6, AX
	VPMOVMSKB Y10, R8
	TESTL     AX, AX
	JNZ       found
	POPCNTL   R8, R8
	ADDQ      R8, R9
	VPMOVMSKB Y7, AX
	VPMOVMSKB Y11, R8
	ADDQ      $32, BX
	JMP       found

	// The last 32 positions when n is not a multiple of 64.
loop32:
	CMPQ BX, CX
	JAE  none
	VMOVDQU (SI)(BX*1), Y4
	VMOVDQU (DI)(BX*1), Y6
	VPCMPEQB Y9, Y4, Y10
	VPOR    Y2, Y4, Y4
	VPOR    Y3, Y6, Y6
	VPCMPEQB Y0, Y4, Y4
	VPCMPEQB Y1, Y6, Y6
	VPAND   Y4, Y6, Y6
	VPMOVMSKB Y6, AX
	VPMOVMSKB Y10, R8
	TESTL   AX, AX
	JNZ     found
	POPCNTL R8, R8
	ADDQ    R8, R9
	ADDQ    $32, BX
	JMP     loop32

	// AX: the candidates of the 32 positions at BX, R8: their newlines;
	// only the newlines below the first candidate count.
found:
	BSFL    AX, AX
	MOVL    AX, CX
	MOVL    $1, DX
	SHLQ    CX, DX
	DECQ    DX
	ANDQ    DX, R8
	POPCNTQ R8, R8
	ADDQ    R8, R9
	ADDQ    BX, AX
	VZEROUPPER
	MOVQ    AX, i+32(FP)
	MOVQ    R9, lines+40(FP)
	RET

none:
	VZEROUPPER
	MOVQ $-1, i+32(FP)
	MOVQ R9, lines+40(FP)
	RET
