package leadgen

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// WriteCSV writes a header and cfg.Rows generated rows to w as CSV (or TSV
// with Comma '\t'), CRLF line ends as Excel writes them, in cfg.Encoding.
func WriteCSV(w io.Writer, cfg Config) error {
	g, err := NewGenerator(cfg)
	if err != nil {
		return err
	}
	comma := byte(',')
	if cfg.Comma != 0 {
		comma = byte(cfg.Comma)
	}
	var enc io.WriteCloser
	switch cfg.Encoding {
	case "utf-8-bom":
		if _, err := io.WriteString(w, "\xEF\xBB\xBF"); err != nil {
			return fmt.Errorf("leadgen: write csv: %w", err)
		}
	case "gbk", "gb18030":
		enc = transform.NewWriter(w, simplifiedchinese.GBK.NewEncoder())
	case "utf-16", "utf-16le":
		enc = transform.NewWriter(w, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder())
	}
	out := w
	if enc != nil {
		out = enc
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	line := make([]byte, 0, 256)
	for i, h := range Header {
		if i > 0 {
			line = append(line, comma)
		}
		line = append(line, h...)
	}
	line = append(line, '\r', '\n')
	bw.Write(line)
	for {
		row, ok := g.Next()
		if !ok {
			break
		}
		line = appendCSVField(line[:0], row.Name, comma)
		line = append(line, comma)
		line = appendCSVField(line, row.Number, comma)
		line = append(line, comma)
		line = appendCSVField(line, row.Remark, comma)
		line = append(line, comma)
		line = appendCSVField(line, row.Agent, comma)
		line = append(line, '\r', '\n')
		if _, err := bw.Write(line); err != nil {
			return fmt.Errorf("leadgen: write csv: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("leadgen: write csv: %w", err)
	}
	if enc != nil {
		if err := enc.Close(); err != nil {
			return fmt.Errorf("leadgen: write csv (%s): %w", cfg.Encoding, err)
		}
	}
	return nil
}

// appendCSVField appends s, quoted when it holds the separator, a quote or
// a line break.
func appendCSVField(b []byte, s string, comma byte) []byte {
	quote := false
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == comma || c == '"' || c == '\n' || c == '\r' {
			quote = true
			break
		}
	}
	if !quote {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// WriteFile writes a generated file to path, its format taken from the
// extension: .csv, .tsv (tab-separated) or .xlsx. It is the one-liner for
// tests and benchmarks that need a large input in a temp dir.
func WriteFile(path string, cfg Config) (err error) {
	ext := strings.ToLower(filepath.Ext(path))
	write := WriteCSV
	switch ext {
	case ".csv":
	case ".tsv":
		cfg.Comma = '\t'
	case ".xlsx":
		write = WriteXLSX
	default:
		return fmt.Errorf("leadgen: %s: extension %q (want .csv, .tsv or .xlsx)", path, ext)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("leadgen: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("leadgen: %w", cerr)
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	if err := write(f, cfg); err != nil {
		return fmt.Errorf("%w (writing %s)", err, path)
	}
	return nil
}
