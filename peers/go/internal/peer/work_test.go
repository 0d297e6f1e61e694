package peer

import "testing"

// The values of models/common/work.c's work_do(3, msg, len).
func TestWorkDoMatchesC(t *testing.T) {
	for msg, want := range map[string]uint64{
		"hello":            6789617851305000938,
		"0123456789abcdef": 5771690644772322356,
		"":                 5676374995575523166,
	} {
		if got := WorkDo(3, []byte(msg)); got != want {
			t.Errorf("WorkDo(3, %q) = %d, want %d (work.c)", msg, got, want)
		}
	}
}
