// Command measure runs a command several times and records its median wall
// time and peak resident set size, taken from the kernel's rusage of each
// child (ProcessState.SysUsage), so that scripts/bench needs no
// /usr/bin/time. It appends one JSON line per measurement to -record and
// prints a one-line summary on stderr.
//
//	measure -n 3 -label validate-csv -rows 1000000 -record results.jsonl -- m7import validate leads.csv
//
// "{run}" in the command's arguments is replaced by the run number (1..n),
// e.g. to import each run into a task of its own. -before runs a shell
// command, not measured, ahead of each run (e.g. to reset a simulator).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Record is one measurement: every run of one command. benchtable reads
// these.
type Record struct {
	Label       string    `json:"label"`
	What        string    `json:"what"`
	Rows        int       `json:"rows,omitempty"`
	Runs        int       `json:"runs"`
	WallS       []float64 `json:"wall_s"`
	MedianWallS float64   `json:"median_wall_s"`
	MaxRSSKiB   int64     `json:"max_rss_kib"`
	UserS       float64   `json:"median_user_s"`
	SysS        float64   `json:"median_sys_s"`
}

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("measure", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 3, "number of runs")
	label := fs.String("label", "", "name of the measurement (required)")
	what := fs.String("what", "", "description for the table (default: the command)")
	rows := fs.Int("rows", 0, "rows the command processes, for rows/s")
	record := fs.String("record", "", "append the JSON record to this file (default: stdout)")
	stdout := fs.String("stdout", "", "write the last run's stdout to this file")
	okCodes := fs.String("ok", "0", "comma-separated exit codes that count as success")
	before := fs.String("before", "", "shell command run (not measured) before each run; {run} is replaced too")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: measure [flags] -- COMMAND [ARG...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cmd := fs.Args()
	if len(cmd) == 0 || *label == "" || *n < 1 {
		fs.Usage()
		return 2
	}
	ok, err := parseCodes(*okCodes)
	if err != nil {
		fmt.Fprintf(stderr, "measure: -ok: %v\n", err)
		return 2
	}
	if *what == "" {
		*what = strings.Join(cmd, " ")
	}
	rec := Record{Label: *label, What: *what, Rows: *rows, Runs: *n}
	var users, syss []float64
	var lastOut []byte
	for i := 1; i <= *n; i++ {
		if *before != "" {
			sh := strings.ReplaceAll(*before, "{run}", strconv.Itoa(i))
			if out, err := exec.Command("sh", "-c", sh).CombinedOutput(); err != nil {
				fmt.Fprintf(stderr, "measure %s: -before %q: %v\n%s", *label, sh, err, out)
				return 1
			}
		}
		r, err := once(cmd, i, ok)
		if err != nil {
			fmt.Fprintf(stderr, "measure %s: run %d: %v\n", *label, i, err)
			return 1
		}
		rec.WallS = append(rec.WallS, r.wall.Seconds())
		users = append(users, r.user.Seconds())
		syss = append(syss, r.sys.Seconds())
		rec.MaxRSSKiB = max(rec.MaxRSSKiB, r.maxRSSKiB)
		lastOut = r.stdout
	}
	rec.MedianWallS, rec.UserS, rec.SysS = median(rec.WallS), median(users), median(syss)
	if *stdout != "" {
		if err := os.WriteFile(*stdout, lastOut, 0o644); err != nil {
			fmt.Fprintf(stderr, "measure: %v\n", err)
			return 1
		}
	}
	line, err := json.Marshal(rec)
	if err != nil {
		fmt.Fprintf(stderr, "measure: %v\n", err)
		return 1
	}
	out := io.Writer(os.Stdout)
	if *record != "" {
		f, err := os.OpenFile(*record, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintf(stderr, "measure: %v\n", err)
			return 1
		}
		defer f.Close()
		out = f
	}
	if _, err := fmt.Fprintf(out, "%s\n", line); err != nil {
		fmt.Fprintf(stderr, "measure: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "  %-22s median %7.3fs (runs %s)  peak RSS %6.1f MB  user %.2fs sys %.2fs\n",
		rec.Label, rec.MedianWallS, fmtWalls(rec.WallS), float64(rec.MaxRSSKiB)*1024/1e6, rec.UserS, rec.SysS)
	return 0
}

type result struct {
	wall, user, sys time.Duration
	maxRSSKiB       int64
	stdout          []byte
}

// once runs the command, with "{run}" replaced by i, and returns its cost.
func once(cmd []string, i int, ok map[int]bool) (result, error) {
	args := make([]string, len(cmd))
	for j, a := range cmd {
		args[j] = strings.ReplaceAll(a, "{run}", strconv.Itoa(i))
	}
	c := exec.Command(args[0], args[1:]...)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &tail{max: 4096, buf: &errb}
	start := time.Now()
	err := c.Run()
	wall := time.Since(start)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return result{}, err
	}
	if code := c.ProcessState.ExitCode(); !ok[code] {
		return result{}, fmt.Errorf("%s exited %d; stderr ends:\n%s", args[0], code, errb.String())
	}
	ru, _ := c.ProcessState.SysUsage().(*syscall.Rusage)
	if ru == nil {
		return result{}, errors.New("no rusage on this platform")
	}
	return result{
		wall: wall,
		user: c.ProcessState.UserTime(),
		sys:  c.ProcessState.SystemTime(),
		// Linux reports ru_maxrss in KiB.
		maxRSSKiB: ru.Maxrss,
		stdout:    out.Bytes(),
	}, nil
}

// tail keeps the last max bytes written to it: enough stderr to explain a
// failure without holding a chatty command's whole output.
type tail struct {
	max int
	buf *bytes.Buffer
}

func (t *tail) Write(p []byte) (int, error) {
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func parseCodes(s string) (map[int]bool, error) {
	ok := map[int]bool{}
	for _, f := range strings.Split(s, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		ok[c] = true
	}
	return ok, nil
}

// median returns the middle value (the mean of the middle two for an even
// count); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fmtWalls(ws []float64) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = strconv.FormatFloat(w, 'f', 2, 64)
	}
	return strings.Join(parts, " ")
}
