package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"

	"golang.org/x/time/rate"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
	"github.com/m7import/m7import/datadir"
	"github.com/m7import/m7import/web"
)

const serveUsage = `
Usage: m7import serve [--addr 127.0.0.1:8080] [--data-dir DIR] [--demo] [--token-file F] [--max-upload N] [flags]

Serves a local web page that walks you through an import: drop a CSV/TSV/XLSX
file, see what was detected, check it, pick or create a task, import it
with live progress, download the results report and the rows that need
attention, and roll back past imports. The page is a thin view over the
same engine as "m7import import"; the history it shows is the same one.

Credentials come from the environment or a secret file exactly as for
import (M7_APPKEY, M7_SECRET or M7_SECRET_FILE / --secret-file); the page
never sees the secret. Without credentials the page only checks files.
--demo serves against the built-in simulator, with a sample task, so that
anyone can try the whole flow.

Uploads, reports, journals and the import history live under --data-dir
and survive a restart; an import interrupted by a stop or a crash resumes
from its journal when the server starts again.

Safety: loopback only by default. Bound to another address, every request
needs the token (--token-file, or one generated and printed once with the
URL).

Examples:
  m7import serve --demo
  M7_APPKEY=... M7_SECRET_FILE=~/.m7secret m7import serve
  m7import serve --addr 0.0.0.0:8080 --token-file ~/.m7token
`

// serveOptions are the settings of "serve".
type serveOptions struct {
	api       apiFlags
	addr      string
	dataDir   string
	demo      bool
	tokenFile string
	maxUpload string
	rate      float64
	burst     int

	maxUploadBytes int64
	rateSet        bool
}

func parseServeFlags(args []string, io stdio) (*serveOptions, error) {
	o := &serveOptions{}
	fs := newFlagSet("serve", serveUsage, io.Err)
	o.api.register(fs)
	fs.StringVar(&o.addr, "addr", web.DefaultAddr, "host:port to listen on (a non-loopback host requires the token on every request)")
	fs.StringVar(&o.dataDir, "data-dir", "", "where uploads, reports, journals and the import history live (default $M7_DATA_DIR, else $XDG_DATA_HOME/m7import or ~/.local/share/m7import; --demo: a new temporary folder)")
	fs.BoolVar(&o.demo, "demo", false, "serve against the built-in simulator with a sample task (no account needed)")
	fs.StringVar(&o.tokenFile, "token-file", "", "file holding the page's token (default: a new one, printed with the URL when it is needed)")
	fs.StringVar(&o.maxUpload, "max-upload", "100M", "largest file the page accepts: bytes, or with a K, M or G suffix")
	fs.Float64Var(&o.rate, "rate", 5, "API calls per second at most (0: no limit; --demo: none unless given)")
	fs.IntVar(&o.burst, "burst", 1, "calls that may go at once above --rate")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, usagef("serve takes no arguments, got %q", rest[0])
	}
	fs.Visit(func(f *flag.Flag) { o.rateSet = o.rateSet || f.Name == "rate" })
	if o.maxUploadBytes, err = parseSize(o.maxUpload); err != nil {
		return nil, usagef("--max-upload %q: %v", o.maxUpload, err)
	}
	if o.api.secretFlag != "" {
		return nil, usagef("--secret is not accepted (it would show in ps and shell history): set M7_SECRET or use --secret-file")
	}
	if o.rate < 0 || o.burst < 1 {
		return nil, usagef("--rate must not be negative and --burst must be at least 1")
	}
	if _, _, err := net.SplitHostPort(o.addr); err != nil {
		return nil, usagef("--addr %q: want host:port, e.g. %s", o.addr, web.DefaultAddr)
	}
	return o, nil
}

// parseSize reads 1048576, 100K, 100M or 1G.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(strings.ToUpper(s))
	mult := int64(1)
	for suffix, m := range map[string]int64{"K": 1 << 10, "M": 1 << 20, "G": 1 << 30} {
		if v, ok := strings.CutSuffix(strings.TrimSuffix(s, "B"), suffix); ok {
			s, mult = v, m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return 0, errors.New("want a size like 104857600, 100M or 1G")
	}
	return n * mult, nil
}

func runServeCmd(ctx context.Context, args []string, io stdio) error {
	o, err := parseServeFlags(args, io)
	if err != nil {
		return err
	}
	return runServe(ctx, o, io, nil)
}

// runServe serves until ctx ends; ready, when set, gets the page's URL.
func runServe(ctx context.Context, o *serveOptions, io stdio, ready func(url string)) error {
	if o.demo {
		stop, env, err := startDemoSim(ctx, io)
		if err != nil {
			return err
		}
		defer stop()
		getenv := io.Getenv
		io.Getenv = func(k string) string {
			if v, ok := env[k]; ok {
				return v
			}
			return getenv(k)
		}
		if !o.rateSet {
			o.rate = 0 // the simulator has no limit
		}
		if o.dataDir == "" {
			if o.dataDir, err = os.MkdirTemp("", "m7import-serve-demo-"); err != nil {
				return err
			}
		}
		// A sample to drop on the page: the repository's, or the same
		// sample written into the data folder when run elsewhere.
		sample, err := demoInput("", o.dataDir)
		if err != nil {
			return err
		}
		fmt.Fprintf(io.Err, "demo: a sample file to drop on the page: %s\n", sample)
	}
	dataDir, err := datadir.Resolve(io.Getenv, o.dataDir)
	if err != nil {
		return err
	}
	token := ""
	if o.tokenFile != "" {
		b, err := os.ReadFile(o.tokenFile)
		if err != nil {
			return fmt.Errorf("--token-file: %w", err)
		}
		if token = strings.TrimSpace(string(b)); len(token) < 16 {
			return usagef("--token-file %s: the token must be at least 16 characters", o.tokenFile)
		}
	}
	cfg := web.Config{Addr: o.addr, DataDir: dataDir, MaxUpload: o.maxUploadBytes, Token: token,
		Logger: slog.New(slog.NewTextHandler(io.Err, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	cfg.Import = web.DefaultImportOptions()
	cfg.Import.Rate, cfg.Import.Timeout = o.rate, o.api.timeout
	switch ac, err := o.api.config(io); {
	case err == nil:
		cfg.AppKey = ac.AppKey
		var lim *rate.Limiter
		if o.rate > 0 {
			// One limiter paces every call of every import, check and
			// rollback: the account's rate limit counts them all.
			lim = rate.NewLimiter(rate.Limit(o.rate), o.burst)
		}
		cfg.Client = func() (*api.Client, error) { return o.api.client(io, lim) }
	case ac.AppKey == "" && ac.Secret == "":
		fmt.Fprintln(io.Err, "no credentials (M7_APPKEY and M7_SECRET): the page only checks files; try --demo to import into the simulator")
	default:
		return err
	}
	srv, err := web.New(cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	if cfg.Client != nil {
		n, err := srv.ResumeImports(ctx)
		if err != nil {
			fmt.Fprintf(io.Err, "warning: %v\n", err)
		}
		if n > 0 {
			fmt.Fprintf(io.Err, "resuming %d interrupted imports\n", n)
		}
	}
	return srv.ListenAndServe(ctx, func(addr net.Addr) {
		url := srv.URL(addr)
		fmt.Fprintf(io.Err, "m7import serve: open %s\n  data: %s\n", url, dataDir)
		if !srv.Loopback() && o.tokenFile == "" {
			fmt.Fprintln(io.Err, "  the token is in the URL above and is shown only now: keep it private")
		}
		if ready != nil {
			ready(url)
		}
	})
}

// startDemoSim starts the simulator in this process with a sample task,
// and returns the environment that points the API client at it.
func startDemoSim(ctx context.Context, io stdio) (stop func(), env map[string]string, err error) {
	srv := sim.New(sim.Config{AppKey: sim.DevAppKey, Secret: sim.DevSecret, Seed: 1, Agents: demoAgents()})
	srv.CreateTask("m7import demo", "2000", "2001", "2003")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, fmt.Errorf("start the simulator: %w", err)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { serve(sctx, ln, srv); close(done) }()
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(io.Err, "demo: simulator on %s with the task \"m7import demo\"\n", base)
	return func() { cancel(); <-done },
		map[string]string{"M7_APPKEY": sim.DevAppKey, "M7_SECRET": sim.DevSecret, "M7_SECRET_FILE": "", "M7_BASE_URL": base}, nil
}
