// tasks/go/sleep.go — N goroutines that each sleep S seconds, waited for
// with a sync.WaitGroup: the Go kind of `make bench-tasks` (docs/tasks.md).
// Built into bin/tasks-go by mk/tasks.mk.
//
//	tasks-go N S
//
// Prints "started N" once every goroutine exists and "done in T s" at the
// end, like bin/tasks-sleep, for bin/tasks-run to read.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

func usage(msg string) {
	fmt.Fprintf(os.Stderr, "tasks-go: %s (usage: tasks-go N S)\n", msg)
	os.Exit(2)
}

func main() {
	if len(os.Args) != 3 {
		usage("want two arguments")
	}
	n, err1 := strconv.Atoi(os.Args[1])
	s, err2 := strconv.ParseFloat(os.Args[2], 64)
	if err1 != nil || err2 != nil || n < 1 || s < 0 {
		usage("N must be a whole number >= 1 and S a number >= 0")
	}
	t0 := time.Now()
	d := time.Duration(s * float64(time.Second))
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(d)
		}()
	}
	fmt.Printf("started %d\n", n)
	wg.Wait()
	fmt.Printf("done in %.2f s\n", time.Since(t0).Seconds())
}
