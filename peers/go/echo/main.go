// echo-go — the echo server in Go, written as the net package's own example
// is: net.Listen, then Accept in a loop and one goroutine per connection.
// The goroutine reads into a buffer of its own and writes back what it read;
// the package example's io.Copy(conn, conn) is not used: on Linux,
// TCPConn.ReadFrom (which io.Copy calls) moves the bytes with splice(2)
// through a pipe per connection — two or more splices per small message and
// a pipe's two descriptors and buffer held by every idle connection
// (docs/peers.md has the figures). The net package's Conn documentation
// offers Read and Write as the plain path; that is what the C models do too,
// and the program is the same with and without --work. The goroutine's code is blocking code, like
// the C threads model; Go's runtime multiplexes the goroutines (M:N) over a
// few threads, parking a goroutine on its netpoller (epoll) when a read would
// block — the C loop model's idea, with preemption and every core.
package main

import (
	"errors"
	"fmt"
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

// serve is one connection's whole life: echo until the peer closes (all it
// sent was echoed) or fails.
func serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 2048) // SERVER_BUF, like the C models (models/common/server.h)
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
		"An echo server in Go: a goroutine per connection, Read and Write in a loop.\nSIGINT or SIGTERM stops it.")
	port := f.Int("port", "p", 0, 0, 65535, "TCP port; 0 asks the kernel for a free one")
	bind := f.String("bind", "b", "127.0.0.1", "IPv4 address to listen on")
	w := f.Int("work", "w", 0, 0, 100000000, "units of CPU work per message (models/common/work.c, in Go)")
	stack := f.Int("stack-kib", "", 0, 0, 1<<20, "checked as the C models check it (0, or at least 32), then ignored: a goroutine's stack grows by itself")
	f.Parse(os.Args[1:], false)
	if *stack != 0 && *stack < peer.ServerStackMinKiB {
		peer.Die(prog, "--stack-kib: %d is too small for a connection's 2 KiB buffer; at least %d", *stack, peer.ServerStackMinKiB)
	}
	work = *w

	ln, err := net.Listen("tcp4", net.JoinHostPort(*bind, strconv.Itoa(*port)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: cannot listen on %s:%d: %s\n", prog, *bind, *port, peer.Strerror(err))
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
