// Package peer holds what the Go peers share with the C programs' contract:
// the flags (the standard flag package, with the C programs' one-line errors
// and exit status 2), the ready line, the URL rules, the /bytes/N pattern check
// and the fetcher's summary (models/common/{flags,server,fetch}.c say the same).
package peer

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// Die prints "prog: message (try --help)" and exits 2, like flags_die().
func Die(prog, format string, a ...any) {
	fmt.Fprintf(os.Stderr, "%s: %s (try --help)\n", prog, fmt.Sprintf(format, a...))
	os.Exit(2)
}

// Flags wraps a flag.FlagSet: errors become one line, --help goes to stdout,
// and positional arguments may stand between flags (as in the C programs).
type Flags struct {
	Prog, Usage, About string
	Set                *flag.FlagSet
	ranges             []func()          // range checks, run after parsing
	short              map[string]string // long name -> its one-letter alias
}

func NewFlags(prog, usage, about string) *Flags {
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &Flags{Prog: prog, Usage: usage, About: about, Set: fs, short: map[string]string{}}
}

// decimal is an int flag read in base 10 only, as strtol(v, &end, 10) reads
// it in flags.c: the flag package's own Int takes "0x50", "0o17" and "1_000".
type decimal int

func (d *decimal) String() string { return strconv.Itoa(int(*d)) }
func (d *decimal) Set(s string) error {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v != int64(int(v)) {
		return fmt.Errorf("'%s' is not a whole number", s)
	}
	*d = decimal(v)
	return nil
}

// Int defines --name (and -short, if not empty) with a range check.
func (f *Flags) Int(name, short string, def, min, max int, help string) *int {
	p := new(int)
	*p = def
	f.Set.Var((*decimal)(p), name, help)
	if short != "" {
		f.Set.Var((*decimal)(p), short, "same as --"+name)
		f.short[name] = short
	}
	f.ranges = append(f.ranges, func() {
		if *p < min || *p > max {
			Die(f.Prog, "--%s: %d is out of range %d..%d", name, *p, min, max)
		}
	})
	return p
}

func (f *Flags) String(name, short, def, help string) *string {
	p := f.Set.String(name, def, help)
	if short != "" {
		f.Set.StringVar(p, short, def, "same as --"+name)
		f.short[name] = short
	}
	return p
}

func (f *Flags) Bool(name, short string, help string) *bool {
	p := f.Set.Bool(name, false, help)
	if short != "" {
		f.Set.BoolVar(p, short, false, "same as --"+name)
		f.short[name] = short
	}
	return p
}

// Parse parses args; returns the positional arguments (none allowed unless positional).
func (f *Flags) Parse(args []string, positional bool) []string {
	var pos []string
	for {
		if err := f.Set.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.help()
				os.Exit(0)
			}
			Die(f.Prog, "%s", flagError(err))
		}
		args = f.Set.Args()
		if len(args) == 0 {
			break
		}
		if !positional {
			Die(f.Prog, "unexpected argument '%s'", args[0])
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	for _, check := range f.ranges {
		check()
	}
	return pos
}

// flagError words the flag package's errors as flags.c does: "--port: '0x50'
// is not a whole number", "unknown flag '--x'", "--port needs a value (VALUE)".
func flagError(err error) string {
	s := err.Error()
	if m := badValue.FindStringSubmatch(s); m != nil {
		return "--" + m[2] + ": " + m[3]
	}
	if m := unknownFlag.FindStringSubmatch(s); m != nil { // the package drops the dashes
		if name := strings.TrimLeft(m[1], "-"); len(name) > 1 {
			return "unknown flag '--" + name + "'"
		}
		return "unknown flag '" + m[1] + "'"
	}
	if m := needsValue.FindStringSubmatch(s); m != nil {
		return "--" + m[1] + " needs a value (VALUE)"
	}
	return s
}

var badValue = regexp.MustCompile(`^invalid value "(.*)" for flag -{1,2}([^:]+): (.*)$`)
var unknownFlag = regexp.MustCompile(`^flag provided but not defined: (.*)$`)
var needsValue = regexp.MustCompile(`^flag needs an argument: -{1,2}(.*)$`)

// ServerStackMinKiB is server.c's floor for --stack-kib (SERVER_STACK_MIN_KIB).
const ServerStackMinKiB = 32

// Strerror is the C library's strerror() wording of a system call's error
// ("Address already in use"): Go's error table has the same words in lower case.
func Strerror(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	s := errno.Error()
	return strings.ToUpper(s[:1]) + s[1:]
}

func (f *Flags) help() {
	fmt.Printf("usage: %s %s\n\n%s\n\nflags:\n", f.Prog, f.Usage, f.About)
	f.Set.VisitAll(func(fl *flag.Flag) {
		if strings.HasPrefix(fl.Usage, "same as --") {
			return
		}
		left := "    --" + fl.Name
		if sh := f.short[fl.Name]; sh != "" {
			left = "-" + sh + ", --" + fl.Name
		}
		fmt.Printf("  %-24s %s (default %q)\n", left, fl.Usage, fl.DefValue)
	})
	fmt.Printf("  %-24s %s\n", "-h, --help", "print this help and exit")
}

var ipv4 = regexp.MustCompile(`^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$`)
var bytesPath = regexp.MustCompile(`^/bytes/(\d{1,15})(\?|$)`)

// shown is text cut to 200 bytes, control bytes as '?', so a message stays one line.
func shown(text string) string {
	if len(text) > 200 {
		text = text[:200]
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return '?'
		}
		return r
	}, text)
}

// CheckURL applies http_url_parse()'s rules (http://IPv4-or-localhost[:port]/path,
// the port digits only, the fragment the client's alone) and returns the body
// length a /bytes/N path promises, -1 for any other path. net/url would take
// more (a sign in the port, other hosts): the C fetchers' rules come first.
func CheckURL(prog, text string) int64 {
	t := shown(text)
	if len(text) < 7 || !strings.EqualFold(text[:7], "http://") {
		Die(prog, "'%s': only http:// URLs are supported", t)
	}
	rest := text[7:]
	hlen := strings.IndexAny(rest, ":/?#")
	if hlen < 0 {
		hlen = len(rest)
	}
	host, rest := rest[:hlen], rest[hlen:]
	if host == "" || len(host) >= 64 {
		Die(prog, "'%s': missing or too long host", t)
	}
	if host != "localhost" {
		parts := ipv4.FindStringSubmatch(host)
		ok := parts != nil
		for i := 1; ok && i <= 4; i++ {
			n, _ := strconv.Atoi(parts[i])
			ok = n <= 255
		}
		if !ok {
			Die(prog, "'%s': host must be a dotted IPv4 address or localhost", t)
		}
	}
	if strings.HasPrefix(rest, ":") {
		nd := len(rest) - 1 - len(strings.TrimLeft(rest[1:], "0123456789")) // digits only: Atoi would take "+80"
		n, _ := strconv.Atoi(rest[1 : 1+nd])
		if nd == 0 || nd > 5 || n < 1 || n > 65535 || (1+nd < len(rest) && !strings.ContainsRune("/?#", rune(rest[1+nd]))) {
			Die(prog, "'%s': bad port", t)
		}
		rest = rest[1+nd:]
	}
	path, _, _ := strings.Cut(rest, "#") // the fragment is never sent
	if !strings.HasPrefix(path, "/") {
		path = "/" + path // "http://h" and "http://h?q" mean "/" and "/?q"
	}
	if len(path) >= 1024 {
		Die(prog, "'%s': path too long", t)
	}
	for i := 0; i < len(path); i++ {
		if path[i] <= ' ' || path[i] >= 0x7f { // RFC 3986: percent-encode the rest
			Die(prog, "'%s': space, control or non-ASCII byte in path", t)
		}
	}
	if b := bytesPath.FindStringSubmatch(path); b != nil {
		n, _ := strconv.ParseInt(b[1], 10, 64)
		return n
	}
	return -1
}

// The /bytes/N pattern (models/common/pattern.h); it repeats every 26 lines of 64.
const period = 26 * 64
const piece = 1 << 16

func PatternByte(i int64) byte {
	if i%64 == 63 {
		return '\n'
	}
	return byte('a' + (i/64+i%64)%26)
}

var pattern = func() []byte {
	b := make([]byte, period+piece)
	for i := range b {
		b[i] = PatternByte(int64(i))
	}
	return b
}()

// Target is one distinct URL.
type Target struct {
	Text   string // the URL as written
	Expect int64  // body length we require, -1 if unknown
	Verify bool   // check body bytes against the pattern
}

// BodyCheck checks a body fed in pieces; Reason is set at the first fault.
type BodyCheck struct {
	T      *Target
	Off    int64
	Reason string
}

func (c *BodyCheck) Feed(data []byte) bool {
	if c.T.Expect >= 0 && c.Off+int64(len(data)) > c.T.Expect {
		c.Reason = fmt.Sprintf("body longer than the %d bytes expected", c.T.Expect)
		return false
	}
	if c.T.Verify {
		for k := 0; k < len(data); k += piece {
			p := data[k:min(k+piece, len(data))]
			start := (c.Off + int64(k)) % period
			if !bytes.Equal(p, pattern[start:start+int64(len(p))]) {
				j := 0
				for p[j] == PatternByte(c.Off+int64(k+j)) {
					j++
				}
				c.Reason = fmt.Sprintf("pattern mismatch at byte %d", c.Off+int64(k+j))
				return false
			}
		}
	}
	c.Off += int64(len(data))
	return true
}

// Judge: the whole response arrived; "" if it is what we asked for (fetch_judge).
func (c *BodyCheck) Judge(status int, announced int64) string {
	if c.Reason != "" {
		return c.Reason
	}
	want := c.T.Expect
	if announced >= 0 {
		want = announced
	}
	if want >= 0 && c.Off < want {
		return fmt.Sprintf("truncated body: %d of %d bytes", c.Off, want)
	}
	if status < 200 || status > 299 {
		return fmt.Sprintf("HTTP status %d", status)
	}
	if c.T.Expect >= 0 && c.Off != c.T.Expect {
		return fmt.Sprintf("truncated body: %d of %d bytes", c.Off, c.T.Expect)
	}
	return ""
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

// Percentile is the nearest-rank percentile of ascending values; 0 if empty.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	k := int((p*float64(len(sorted))+99)/100) - 1
	if k < 0 {
		k = 0
	}
	if k >= len(sorted) {
		k = len(sorted) - 1
	}
	return sorted[k]
}

// Sort sorts latencies in place and returns them.
func Sort(v []float64) []float64 { sort.Float64s(v); return v }
