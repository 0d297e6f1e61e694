package peer

import (
	"encoding/binary"
	"sync/atomic"
)

var workSink uint64 // keeps the result alive, like work.c's work_sink

// WorkDo is models/common/work.c's work_do(), line for line: units times 64
// rounds of a splitmix64-style mixer seeded by the message.
func WorkDo(units int, msg []byte) uint64 {
	if units <= 0 {
		return 0
	}
	x := 0x9e3779b97f4a7c15 ^ uint64(len(msg))
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], x)
	copy(b[:], msg) // memcpy(&x, msg, min(len, 8))
	x = binary.LittleEndian.Uint64(b[:])
	for u := 0; u < units; u++ {
		for r := 0; r < 64; r++ {
			x += 0x9e3779b97f4a7c15
			x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
			x = (x ^ (x >> 27)) * 0x94d049bb133111eb
			x ^= x >> 31
		}
	}
	atomic.StoreUint64(&workSink, x)
	return x
}
