//go:build !purego

// Code for Index.scan: see prefetch_amd64.go.

#include "textflag.h"

// func prefetch(base unsafe.Pointer, size uintptr, idx []uint32)
TEXT ·prefetch(SB), NOSPLIT, $0-40
	MOVQ base+0(FP), AX
	MOVQ size+8(FP), BX
	MOVQ idx_base+16(FP), SI
	MOVQ idx_len+24(FP), CX
	TESTQ CX, CX
	JEQ done
loop:
	MOVL (SI), DX
	IMULQ BX, DX
	PREFETCHT0 (AX)(DX*1)
	ADDQ $4, SI
	DECQ CX
	JNE loop
done:
	RET
