package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/m7import/m7import/internal/leadgen"
)

// options are leadgen's settings, filled from flags.
type options struct {
	Out    string
	Format string // csv, tsv or xlsx
	Config leadgen.Config
}

var errHelp = errors.New("help requested")

const usage = `usage: leadgen -rows N -format csv|tsv|xlsx -out FILE [flags]

Writes N rows of realistic leads (姓名,手机号码,备注,座席工号): Chinese and English
names, Chinese mobile and landline numbers in mixed formats, a few percent
invalid and duplicate rows. The same flags and seed give the same bytes.

examples:
  go run ./cmd/leadgen -rows 4500 -seed 7 -format csv -out testdata/sample/leads.csv
  go run ./cmd/leadgen -rows 1000000 -format xlsx -out /tmp/leads-1m.xlsx
  go run ./cmd/leadgen -rows 1000 -format csv -encoding gbk -out - > leads-gbk.csv

flags:
`

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("leadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.IntVar(&o.Config.Rows, "rows", 1000, "number of data rows")
	fs.StringVar(&o.Format, "format", "", "csv, tsv or xlsx (default: from the -out extension)")
	fs.StringVar(&o.Out, "out", "", "output file, or - for stdout (required)")
	fs.Int64Var(&o.Config.Seed, "seed", 1, "random seed")
	fs.StringVar(&o.Config.Encoding, "encoding", "utf-8", "CSV/TSV encoding: utf-8, utf-8-bom, gbk or utf-16")
	fs.Float64Var(&o.Config.InvalidPct, "invalid-pct", 3, "percent of rows with an invalid number")
	fs.Float64Var(&o.Config.DupPct, "dup-pct", 2, "percent of rows repeating an earlier number")
	fs.Float64Var(&o.Config.LandlinePct, "landline-pct", 8, "percent of valid numbers that are landlines (0: none)")
	fs.Float64Var(&o.Config.NumericPct, "numeric-pct", 30, "XLSX: percent of plain mobile numbers stored as NUMERIC cells (0: none)")
	sharedStrings := fs.Bool("shared-strings", true, "XLSX: use a shared-strings table as Excel does (false: inline strings)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, errHelp
		}
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.Out == "" {
		return o, errors.New("-out is required (a file, or - for stdout)")
	}
	// 0 on the command line means none; the library's zero means default.
	for _, p := range []*float64{&o.Config.LandlinePct, &o.Config.NumericPct} {
		if *p == 0 {
			*p = -1
		}
	}
	o.Config.InlineStrings = !*sharedStrings
	if _, err := leadgen.NewGenerator(o.Config); err != nil {
		return o, err
	}
	if o.Format == "" {
		o.Format = strings.TrimPrefix(strings.ToLower(filepath.Ext(o.Out)), ".")
	}
	switch o.Format {
	case "csv":
	case "tsv":
		o.Config.Comma = '\t'
	case "xlsx":
	default:
		return o, fmt.Errorf("-format %q: want csv, tsv or xlsx", o.Format)
	}
	return o, nil
}

// generate writes the file; a failed run leaves no partial file behind.
func generate(o options, stdout io.Writer) (err error) {
	write := func(w io.Writer) error {
		if o.Format == "xlsx" {
			return leadgen.WriteXLSX(w, o.Config)
		}
		return leadgen.WriteCSV(w, o.Config)
	}
	if o.Out == "-" {
		bw := bufio.NewWriterSize(stdout, 64<<10)
		if err := write(bw); err != nil {
			return err
		}
		return bw.Flush()
	}
	f, err := os.Create(o.Out)
	if err != nil {
		return fmt.Errorf("create output: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(o.Out)
		}
	}()
	if err := write(f); err != nil {
		return fmt.Errorf("write %s: %w", o.Out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", o.Out, err)
	}
	return nil
}
