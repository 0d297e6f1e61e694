// fetch-go — the fetcher in Go with net/http, bounded the way Go code usually
// bounds concurrent work: a pool of -c worker goroutines reading job numbers
// from a channel, each making plain blocking client.Do() calls, and sending
// its results down another channel to main. One http.Client (its Transport
// owns the connection pool) is shared by all of them, as its documentation
// recommends; a context deadline bounds each request, connect to last byte.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"c10k-lab/peers/go/internal/peer"
)

const prog = "fetch-go"

type result struct {
	t       *peer.Target
	ok      bool
	bytes   int64
	latency time.Duration
	reason  string
}

// reasonOf names an error the way the C fetchers do (fetch_fail_errno).
func reasonOf(err error, c *peer.BodyCheck, announced int64, timeoutMS int) string {
	s := err.Error()
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Sprintf("timeout after %d ms", timeoutMS)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by peer"
	case errors.Is(err, io.ErrUnexpectedEOF) && announced >= 0:
		return fmt.Sprintf("truncated body: %d of %d bytes", c.Off, announced)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("truncated chunked body after %d bytes", c.Off)
	case errors.Is(err, io.EOF):
		return "connection closed before the response"
	case strings.Contains(s, "malformed HTTP"):
		return "malformed status line"
	case strings.Contains(s, "Content-Length"):
		return "malformed Content-Length"
	}
	return s
}

func fetchOne(client *http.Client, t *peer.Target, timeoutMS int) result {
	start := time.Now()
	c := &peer.BodyCheck{T: t}
	announced := int64(-1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(timeoutMS)*time.Millisecond)
	defer cancel()
	reason := func() string {
		req, err := http.NewRequestWithContext(ctx, "GET", t.Text, nil)
		if err != nil {
			return err.Error()
		}
		resp, err := client.Do(req)
		if err != nil {
			return reasonOf(err, c, announced, timeoutMS)
		}
		defer resp.Body.Close()
		announced = resp.ContentLength
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			// The status first: an error page is not checked against the
			// pattern nor counted; it is read to its end all the same, so a
			// kept-alive connection can carry the next request.
			status := fmt.Sprintf("HTTP status %d", resp.StatusCode)
			n, err := io.Copy(io.Discard, resp.Body)
			if err != nil {
				return status + "; " + reasonOf(err, &peer.BodyCheck{T: t, Off: n}, announced, timeoutMS)
			}
			return status
		}
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			if n > 0 && !c.Feed(buf[:n]) {
				return c.Reason
			}
			if err == io.EOF {
				return c.Judge(resp.StatusCode, announced)
			}
			if err != nil {
				return reasonOf(err, c, announced, timeoutMS)
			}
		}
	}()
	return result{t, reason == "", c.Off, time.Since(start), reason} // c.Off: 0 for an error page
}

func readURLs(name string) []string {
	in := os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			var errno syscall.Errno
			if errors.As(err, &errno) {
				peer.Die(prog, "-i %s: %s", name, strings.ToUpper(errno.Error()[:1])+errno.Error()[1:])
			}
			peer.Die(prog, "-i %s: %v", name, err)
		}
		defer f.Close()
		in = f
	}
	var urls []string
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" && !strings.HasPrefix(s, "#") {
			urls = append(urls, s)
		}
	}
	return urls
}

func main() {
	f := peer.NewFlags(prog, "[flags] URL... | -i FILE",
		"Download many URLs at once in Go with net/http: -c worker goroutines share one\nhttp.Client and take URLs from a channel.")
	conc := f.Int("concurrency", "c", 10, 1, 100000, "most requests in flight at once")
	count := f.Int("count", "n", 1, 1, 100000000, "fetch every URL COUNT times")
	input := f.String("input", "i", "", "read URLs from FILE, one per line ('-' for stdin)")
	timeout := f.Int("timeout", "", 10000, 1, 86400000, "deadline of one request, connect to last byte, in milliseconds")
	keepalive := f.Bool("keepalive", "", "reuse connections between requests")
	verify := f.String("verify", "", "auto", "auto|on|off: check body bytes against fetchd's pattern (auto: for /bytes/N)")
	quiet := f.Bool("quiet", "q", "print nothing unless a fetch failed")
	urls := f.Parse(os.Args[1:], true)

	mode, ok := map[string]int{"on": 1, "auto": 2, "off": 0}[*verify]
	if !ok {
		peer.Die(prog, "--verify: '%s' is not auto, on or off", *verify)
	}
	if *input != "" {
		urls = append(urls, readURLs(*input)...)
	}
	if len(urls) == 0 {
		peer.Die(prog, "no URLs given")
	}
	if int64(len(urls))*int64(*count) > 100000000 {
		peer.Die(prog, "%d fetches is too many (at most 100000000)", int64(len(urls))*int64(*count))
	}
	var jobs []*peer.Target
	for _, u := range urls {
		expect := peer.CheckURL(prog, u)
		t := &peer.Target{Text: u, Expect: expect, Verify: mode == 1 || (mode == 2 && expect >= 0)}
		if mode == 0 {
			t.Expect = -1
		}
		for i := 0; i < *count; i++ {
			jobs = append(jobs, t)
		}
	}
	inflight := *conc
	if len(jobs) < inflight {
		inflight = len(jobs)
	}

	// The Transport must not bound the pool below -c (its default keeps 2 idle
	// connections per host); without --keepalive, one connection per request.
	client := &http.Client{
		Transport: &http.Transport{
			MaxIdleConns:        inflight,
			MaxIdleConnsPerHost: inflight,
			DisableKeepAlives:   !*keepalive,
			DisableCompression:  true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	start := time.Now()
	todo := make(chan *peer.Target)
	done := make(chan result, inflight)
	for w := 0; w < inflight; w++ {
		go func() {
			for t := range todo {
				done <- fetchOne(client, t, *timeout)
			}
		}()
	}
	go func() {
		for _, t := range jobs {
			todo <- t
		}
		close(todo)
	}()

	var nok, nfailed, nbytes int64
	var lat []float64
	var failures []string
	for range jobs {
		r := <-done
		nbytes += r.bytes
		if r.ok {
			nok++
			lat = append(lat, float64(r.latency)/1e6)
			continue
		}
		nfailed++
		if len(failures) < 20 {
			failures = append(failures, r.t.Text+": "+r.reason)
		}
	}
	wall := time.Since(start).Seconds()
	if !*quiet || nfailed > 0 {
		ka := ""
		if *keepalive {
			ka = ", keepalive"
		}
		fmt.Printf("%s: fetched %d, failed %d, bytes %d, wall %.3f s (%.0f fetches/s, c=%d%s)\n",
			prog, nok, nfailed, nbytes, wall, float64(nok)/wall, inflight, ka)
		lat = peer.Sort(lat)
		max := 0.0
		if len(lat) > 0 {
			max = lat[len(lat)-1]
		}
		fmt.Printf("%s: latency p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", prog,
			peer.Percentile(lat, 50), peer.Percentile(lat, 99), max)
	}
	for _, l := range failures {
		fmt.Fprintf(os.Stderr, "%s: failed %s\n", prog, l)
	}
	if nfailed > int64(len(failures)) {
		fmt.Fprintf(os.Stderr, "%s: ... and %d more failures\n", prog, nfailed-int64(len(failures)))
	}
	if nfailed > 0 {
		os.Exit(1)
	}
}
