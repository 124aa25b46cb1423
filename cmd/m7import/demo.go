package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
	"github.com/m7import/m7import/internal/leadgen"
)

const demoUsage = `
Usage: m7import demo [--file leads.csv] [--dir DIR]

Shows the tool's main job with no account and no network: starts the 7moor
simulator in this process, creates a task, imports a sample lead file of
4,500 rows (some invalid, some duplicate: three batches), shows progress
and the summary, and says where the results report is.

Examples:
  m7import demo
  m7import demo --file my-leads.xlsx
`

// The demo's sample is testdata/sample/leads.csv when run from the
// repository, and the same rows regenerated elsewhere.
const (
	demoSample = "testdata/sample/leads.csv"
	demoRows   = 4500
	demoSeed   = 7
)

func runDemoCmd(ctx context.Context, args []string, io stdio) error {
	var file, dir string
	fs := newFlagSet("demo", demoUsage, io.Err)
	fs.StringVar(&file, "file", "", "lead file to import (default: the built-in sample)")
	fs.StringVar(&dir, "dir", "", "folder for the report (default: a new temporary folder)")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("demo takes no arguments, got %q (use --file)", rest[0])
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "m7import-demo-"); err != nil {
			return err
		}
	}
	input, err := demoInput(file, dir)
	if err != nil {
		return err
	}

	srv := sim.New(sim.Config{AppKey: sim.DevAppKey, Secret: sim.DevSecret, Seed: 1, Agents: demoAgents()})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("start the simulator: %w", err)
	}
	sctx, stopSim := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSim()
	go serve(sctx, ln, srv)
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(io.Err, "simulator listening on %s (appkey %s)\n", base, sim.DevAppKey)
	fmt.Fprintf(io.Err, "importing %s into a new task \"m7import demo\"\n\n", input)

	// The demo's history and locks stay in its own folder: a simulator's
	// imports have no place in the user's record.
	env := map[string]string{"M7_APPKEY": sim.DevAppKey, "M7_SECRET": sim.DevSecret, "M7_BASE_URL": base,
		"M7_DATA_DIR": filepath.Join(dir, ".m7import-data"), "LANG": io.Getenv("LANG"), "LC_ALL": io.Getenv("LC_ALL"),
		"LC_MESSAGES": io.Getenv("LC_MESSAGES")}
	demoIO := io
	demoIO.Getenv = func(k string) string { return env[k] }
	report := filepath.Join(dir, strings.TrimSuffix(filepath.Base(input), filepath.Ext(input))+".results.csv")
	err = runImportCmd(ctx, []string{input, "--task-name", "m7import demo", "--create-task",
		"--agents", "2000,2001,2003", "--rate", "5", "--report", report}, demoIO, false)
	if code := exitFor(err); code != exitOK && code != exitIncomplete {
		return err
	}
	var held int
	for _, t := range srv.Tasks() {
		if t.Name == "m7import demo" {
			held = len(srv.Numbers(t.ID))
		}
	}
	fmt.Fprintf(io.Err, "\nthe simulator's task now holds %d numbers\n", held)
	fmt.Fprintf(io.Err, "some rows of the report:\n")
	printSample(io, report, 3)
	fmt.Fprintf(io.Err, "\nopen the whole report in Excel or WPS: %s\n", report)
	return err
}

// demoAgents is the demo account: agents 2000 to 2008, 2002 disabled, so
// that the sample's rows for 2002 and 2009 show the agent warning.
func demoAgents() []api.Agent {
	var agents []api.Agent
	for n := 2000; n <= 2008; n++ {
		a := api.Agent{ID: fmt.Sprintf("agent%d", n), AgentNumber: fmt.Sprint(n), AgentName: fmt.Sprintf("座席%d", n), Status: api.AgentEnabled}
		if n == 2002 {
			a.Status = api.AgentDisabled
		}
		agents = append(agents, a)
	}
	return agents
}

// demoInput returns the file to import: the user's, the repository's
// sample, or the same sample regenerated into dir.
func demoInput(file, dir string) (string, error) {
	if file != "" {
		return file, nil
	}
	if _, err := os.Stat(demoSample); err == nil {
		return demoSample, nil
	}
	path := filepath.Join(dir, "leads.csv")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := leadgen.WriteCSV(f, leadgen.Config{Rows: demoRows, Seed: demoSeed}); err != nil {
		f.Close()
		return "", fmt.Errorf("generate the sample: %w", err)
	}
	return path, f.Close()
}

// printSample prints the report's header, its first n rows, and the first
// row of every other status, so that the demo shows each outcome.
func printSample(io stdio, path string, n int) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	shown := map[string]bool{}
	for i := 0; ; i++ {
		rec, err := r.Read()
		if err != nil {
			return
		}
		if i == 0 && len(rec) > 0 {
			rec[0] = strings.TrimPrefix(rec[0], "\ufeff")
		}
		status := ""
		if len(rec) > 6 {
			status = rec[6]
		}
		if i <= n || (i > 0 && !shown[status]) {
			shown[status] = true
			for j := range rec {
				// Digit-only cells carry a tab for spreadsheets; not here.
				rec[j] = strings.TrimPrefix(rec[j], "\t")
			}
			fmt.Fprintf(io.Err, "  %s\n", strings.Join(rec, ","))
		}
	}
}
