package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
)

const simUsage = `
Usage: m7import sim [--addr 127.0.0.1:8907] [--appkey K --secret S] [flags]

Serves a faithful simulator of the 7moor dial-out task API until
interrupted, for trying m7import (or any client) without a 7moor account.
Credentials: --appkey/--secret (this secret guards nothing real), else
M7_APPKEY and M7_SECRET or M7_SECRET_FILE, else a fixed development pair
printed at start. GET /_sim/state shows every task's numbers and the
call counters.

Examples:
  m7import sim --addr 127.0.0.1:8907 --appkey K --secret S
  m7import sim --rate-limit 10 --fault import:503:rate=0.1 --fault import:latency=300ms
`

type simOptions struct {
	addr, appKey, secret string
	rateLimit            float64
	burst                int
	seed                 int64
	faults               listFlag
}

func runSimCmd(ctx context.Context, args []string, io stdio) error {
	o := &simOptions{}
	fs := newFlagSet("sim", simUsage, io.Err)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8907", "address to listen on")
	fs.StringVar(&o.appKey, "appkey", "", "app key the simulator accepts")
	fs.StringVar(&o.secret, "secret", "", "secret key the simulator accepts (a simulator's secret guards nothing real)")
	fs.Float64Var(&o.rateLimit, "rate-limit", 0, "requests per second per app key before 429 (0: no limit)")
	fs.IntVar(&o.burst, "burst", 1, "burst above --rate-limit")
	fs.Int64Var(&o.seed, "seed", 1, "seed of the random fault injection")
	fs.Var(&o.faults, "fault", "fault to inject, ENDPOINT:MODE[:rate=P|every=N][...], repeatable, e.g. import:503:rate=0.1")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("sim takes no arguments, got %q", rest[0])
	}
	srv, cfg, err := o.server(io)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	fmt.Fprintf(io.Err, "7moor simulator on http://%s (appkey %s", ln.Addr(), cfg.AppKey)
	if o.secret == "" && io.Getenv("M7_SECRET") == "" && io.Getenv("M7_SECRET_FILE") == "" {
		fmt.Fprintf(io.Err, ", development secret %s", cfg.Secret)
	}
	fmt.Fprintf(io.Err, "); state at http://%s/_sim/state; Ctrl-C stops it\n", ln.Addr())
	return serve(ctx, ln, srv)
}

// server builds the simulator from the flags and environment.
func (o *simOptions) server(io stdio) (*sim.Server, sim.Config, error) {
	cfg := sim.Config{AppKey: o.appKey, Secret: o.secret, RateLimit: o.rateLimit, Burst: o.burst, Seed: o.seed}
	if cfg.AppKey == "" {
		cfg.AppKey = io.Getenv("M7_APPKEY")
	}
	if cfg.Secret == "" {
		cfg.Secret = io.Getenv("M7_SECRET")
	}
	if f := io.Getenv("M7_SECRET_FILE"); cfg.Secret == "" && f != "" {
		secret, err := api.ReadSecretFile(f)
		if err != nil {
			return nil, cfg, err
		}
		cfg.Secret = secret
	}
	if cfg.AppKey == "" {
		cfg.AppKey = sim.DevAppKey
	}
	if cfg.Secret == "" {
		cfg.Secret = sim.DevSecret
	}
	srv := sim.New(cfg)
	byEndpoint := map[string][]sim.Fault{}
	var order []string
	for _, spec := range o.faults {
		ep, f, err := sim.ParseFault(spec)
		if err != nil {
			return nil, cfg, usagef("--fault %q: %v", spec, err)
		}
		if _, ok := byEndpoint[ep]; !ok {
			order = append(order, ep)
		}
		byEndpoint[ep] = append(byEndpoint[ep], f)
	}
	for _, ep := range order {
		srv.SetFaults(ep, byEndpoint[ep]...)
	}
	return srv, cfg, nil
}

// serve runs h on ln until ctx is cancelled.
func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := hs.Shutdown(sctx)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		return err
	}
}
