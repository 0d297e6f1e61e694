// echo-go — the echo server in Go, written as the net package's own example
// is: net.Listen, then Accept in a loop and one goroutine per connection
// running io.Copy(conn, conn). The goroutine's code is blocking code, like
// the C threads model; Go's runtime multiplexes the goroutines (M:N) over a
// few threads, parking a goroutine on its netpoller (epoll) when a read would
// block — the C loop model's idea, with preemption and every core.
package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"c10k-lab/peers/go/internal/peer"
)

const prog = "echo-go"

var work int // --work: units of CPU work per message

// serve is one connection's whole life: echo until the peer closes or fails.
func serve(c net.Conn) {
	defer c.Close()
	if work == 0 {
		io.Copy(c, c) // returns at the peer's EOF (all it sent was echoed) or on an error
		return
	}
	buf := make([]byte, 16384) // SERVER_BUF, like the C models
	for {
		n, err := c.Read(buf)
		if n > 0 {
			peer.WorkDo(work, buf[:n])
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// acceptLoop accepts until the listener is closed. Out of descriptors, it
// waits a little longer each time (like net/http's Server.Serve) and says so
// at most once a second.
func acceptLoop(ln net.Listener) {
	var delay time.Duration
	var last int64
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if now := time.Now().Unix(); now != last {
				last = now
				fmt.Fprintf(os.Stderr, "%s: accept: %v; refusing new connections for a moment\n", prog, err)
			}
			if delay = delay * 2; delay == 0 {
				delay = 5 * time.Millisecond
			} else if delay > time.Second {
				delay = time.Second
			}
			time.Sleep(delay)
			continue
		}
		delay = 0
		go serve(c)
	}
}

func main() {
	f := peer.NewFlags(prog, "[flags]",
		"An echo server in Go: a goroutine per connection, io.Copy(conn, conn).\nSIGINT or SIGTERM stops it.")
	port := f.Int("port", "p", 0, 0, 65535, "TCP port; 0 asks the kernel for a free one")
	bind := f.String("bind", "b", "127.0.0.1", "IPv4 address to listen on")
	w := f.Int("work", "w", 0, 0, 100000000, "units of CPU work per message (models/common/work.c, in Go; a read/write loop instead of io.Copy)")
	f.Parse(os.Args[1:], false)
	work = *w

	ln, err := net.Listen("tcp4", net.JoinHostPort(*bind, strconv.Itoa(*port)))
	if err != nil {
		var errno syscall.Errno
		why := err.Error()
		if errors.As(err, &errno) {
			why = errno.Error()
		}
		fmt.Fprintf(os.Stderr, "%s: cannot listen on %s:%d: %s\n", prog, *bind, *port, why)
		os.Exit(1)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	fmt.Printf("listening on %s\n", ln.Addr())
	go acceptLoop(ln)
	<-stop
	ln.Close()
	os.Exit(0) // the connections' goroutines end with the process
}
