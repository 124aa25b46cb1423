// Command benchsim hosts the 7moor simulator (api/sim) for scripts/bench's
// rate-limit run and checks, from the simulator's own record of when each
// import call arrived, that the client kept the limit saturated and never
// exceeded it. `m7import sim` serves only the counters; the arrival times
// (sim.Server.CallTimes) are what prove a rate.
//
//	benchsim serve -rate-limit 10 -burst 2 -fault import:latency=300ms -task rate
//	benchsim check -url http://127.0.0.1:PORT -rate 10 -burst 1 -label rate-c4
//	benchsim reset -url http://127.0.0.1:PORT
//
// serve answers GET /_bench/calls with the import calls' arrival times (JSON
// Unix nanoseconds) and POST /_bench/reset by replacing the simulator with a
// fresh one, besides the simulator's own paths; check prints one JSON record
// (see Check) for benchtable; reset empties the simulator between measured
// runs, so that run 3 does not pay for the numbers runs 1 and 2 left behind.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
)

// The paths serve adds to the simulator's.
const (
	// CallsPath answers with the import calls' arrival times.
	CallsPath = "/_bench/calls"
	// ResetPath replaces the simulator with a fresh one.
	ResetPath = "/_bench/reset"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: benchsim serve|check|reset [flags]")
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stderr)
	case "check":
		err = check(ctx, args[1:], stdout, stderr)
	case "reset":
		err = reset(ctx, args[1:], stderr)
	default:
		fmt.Fprintf(stderr, "benchsim: unknown command %q (serve, check or reset)\n", args[0])
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "benchsim: %v\n", err)
		return 1
	}
	return 0
}

type faultList []string

func (f *faultList) String() string     { return strings.Join(*f, ",") }
func (f *faultList) Set(s string) error { *f = append(*f, s); return nil }

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	cfg := sim.Config{}
	fs.StringVar(&cfg.AppKey, "appkey", sim.DevAppKey, "app key the simulator accepts")
	fs.StringVar(&cfg.Secret, "secret", sim.DevSecret, "secret the simulator accepts")
	fs.Float64Var(&cfg.RateLimit, "rate-limit", 0, "requests per second before 429 (0: no limit)")
	fs.IntVar(&cfg.Burst, "burst", 1, "burst above -rate-limit")
	var faults faultList
	fs.Var(&faults, "fault", "fault to inject, as m7import sim --fault reads it (repeatable)")
	task := fs.String("task", "", "create a task of this name (agents 2000, 2001) and log its id")
	if err := fs.Parse(args); err != nil {
		return err
	}
	type endpointFault struct {
		endpoint string
		fault    sim.Fault
	}
	var parsed []endpointFault
	for _, spec := range faults {
		ep, f, err := sim.ParseFault(spec)
		if err != nil {
			return fmt.Errorf("-fault %q: %w", spec, err)
		}
		parsed = append(parsed, endpointFault{ep, f})
	}
	// fresh builds the simulator and, with -task, its task. Task ids come
	// from the seed, so every fresh simulator gives the task the same id.
	fresh := func() (*sim.Server, string) {
		srv := sim.New(cfg)
		for _, f := range parsed {
			srv.AddFaults(f.endpoint, f.fault)
		}
		id := ""
		if *task != "" {
			// Created directly, not by a request: the rate-limit run's
			// only calls are then the client's own.
			id = srv.CreateTask(*task, "2000", "2001")
		}
		return srv, id
	}
	var cur atomic.Pointer[sim.Server]
	srv, taskID := fresh()
	cur.Store(srv)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { cur.Load().ServeHTTP(w, r) })
	mux.HandleFunc("GET "+CallsPath, func(w http.ResponseWriter, r *http.Request) {
		times := cur.Load().CallTimes(sim.EndpointImport)
		ns := make([]int64, len(times))
		for i, t := range times {
			ns[i] = t.UnixNano()
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(ns)
	})
	mux.HandleFunc("POST "+ResetPath, func(w http.ResponseWriter, r *http.Request) {
		s, _ := fresh()
		cur.Store(s)
		// Return the old simulator's memory now, not during the next run.
		debug.FreeOSMemory()
		w.WriteHeader(http.StatusNoContent)
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "benchsim: simulator on http://%s (appkey %s); state at %s, call times at %s, reset at %s\n",
		ln.Addr(), srv.AppKey(), sim.StatePath, CallsPath, ResetPath)
	if taskID != "" {
		fmt.Fprintf(stderr, "benchsim: task %q id=%s\n", *task, taskID)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return hs.Shutdown(sctx)
	}
}

func reset(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("reset", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "base URL of a running benchsim serve (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" {
		return errors.New("reset needs -url")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, *url+ResetPath, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("POST %s: %s", req.URL, resp.Status)
	}
	return nil
}

// Check is what check finds about one rate-limited import: every field is
// taken from the simulator.
type Check struct {
	Label string `json:"label"`
	What  string `json:"what,omitempty"`
	// Calls is how many import calls arrived (retries included) and
	// Processed how many the simulator carried out.
	Calls     int `json:"calls"`
	Processed int `json:"processed"`
	// Refused counts the 429 refusals of every endpoint: the vendor's limit
	// is per app key, so a task lookup that goes over it counts too.
	// RefusedImport is the import calls' share.
	Refused       int `json:"refused_429"`
	RefusedImport int `json:"refused_429_import"`
	// SpanS is the time between the first and the last import call's
	// arrival.
	SpanS float64 `json:"span_s"`
	// AchievedRate is (Processed-1)/SpanS: accepted import calls per
	// second between the first and the last arrival, the conservative
	// reading (Processed/SpanS would count one interval too many, and
	// refused calls carry no rows).
	AchievedRate float64 `json:"achieved_rate"`
	// MaxIn1s is the most import calls that arrived within any 1 s window.
	MaxIn1s int `json:"max_in_1s"`
	// Rate and Burst are the client's configured limit.
	Rate  float64 `json:"rate"`
	Burst int     `json:"burst"`
}

func check(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "base URL of a running benchsim serve (required)")
	c := Check{}
	fs.Float64Var(&c.Rate, "rate", 10, "the client's --rate")
	fs.IntVar(&c.Burst, "burst", 1, "the client's --burst")
	fs.StringVar(&c.Label, "label", "rate", "name of the measurement")
	fs.StringVar(&c.What, "what", "", "description for the table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" {
		return errors.New("check needs -url")
	}
	var ns []int64
	if err := getJSON(ctx, *url+CallsPath, &ns); err != nil {
		return err
	}
	var st sim.State
	if err := getJSON(ctx, *url+sim.StatePath, &st); err != nil {
		return err
	}
	times := make([]time.Time, len(ns))
	for i, n := range ns {
		times[i] = time.Unix(0, n)
	}
	c.Calls = len(times)
	c.Processed = st.Stats[sim.EndpointImport].Processed
	for ep, es := range st.Stats {
		c.Refused += es.Refused[api.CodeRateLimited]
		if ep == sim.EndpointImport {
			c.RefusedImport += es.Refused[api.CodeRateLimited]
		}
	}
	span, most := analyze(times, time.Second)
	c.SpanS, c.MaxIn1s = span.Seconds(), most
	if c.Processed > 1 && span > 0 {
		c.AchievedRate = float64(c.Processed-1) / span.Seconds()
	}
	line, err := json.Marshal(c)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", line)
	return err
}

// analyze returns the span from the first to the last time and the most
// times that fall within any half-open window [t, t+window).
func analyze(times []time.Time, window time.Duration) (span time.Duration, most int) {
	if len(times) == 0 {
		return 0, 0
	}
	ts := slices.Clone(times)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	lo := 0
	for hi, t := range ts {
		for t.Sub(ts[lo]) >= window {
			lo++
		}
		most = max(most, hi-lo+1)
	}
	return ts[len(ts)-1].Sub(ts[0]), most
}

func getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
