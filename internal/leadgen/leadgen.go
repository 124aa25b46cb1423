// Package leadgen generates realistic lead spreadsheets (姓名, 手机号码, 备注,
// 座席工号) for the demo sample, tests and benchmarks: Chinese and English
// names, Chinese mobile and landline numbers in the formats people type,
// a few percent invalid and duplicate rows. Output is a pure function of
// the Config: the same seed gives the same bytes, on any machine and Go
// version (the random source is a local splitmix64, not math/rand).
package leadgen

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Header is the header row of a generated file.
var Header = []string{"姓名", "手机号码", "备注", "座席工号"}

// Kind says what a generated row's number is meant to be, so tests can
// check a reader's verdicts against the generator's intent.
type Kind int

// The kinds of generated rows.
const (
	// Mobile is a valid Chinese mobile number, in one of several formats.
	Mobile Kind = iota
	// Landline is a valid fixed-line number with a real area code.
	Landline
	// Invalid is a number no normalizer should accept (too short, letters,
	// digits lost to scientific notation, empty, ...).
	Invalid
	// Duplicate repeats the number of an earlier valid row, in the same or
	// another format.
	Duplicate
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case Mobile:
		return "mobile"
	case Landline:
		return "landline"
	case Invalid:
		return "invalid"
	case Duplicate:
		return "duplicate"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Config says what to generate. The zero value of a field means its
// default, noted on the field.
type Config struct {
	// Rows is the number of data rows (after the header).
	Rows int
	// Seed selects the data; the same Config gives the same file.
	Seed int64
	// InvalidPct is the percentage of rows with an invalid number.
	InvalidPct float64
	// DupPct is the percentage of rows repeating an earlier row's number.
	DupPct float64
	// LandlinePct is the percentage of valid rows with a landline number
	// (default 8; negative means none).
	LandlinePct float64
	// Comma is the CSV field separator (default ','; '\t' for TSV).
	Comma rune
	// Encoding of a CSV file: "utf-8" (default), "utf-8-bom", "gbk"
	// (GB18030-compatible, as Chinese Excel saves CSV) or "utf-16" (UTF-16LE
	// with a BOM, as Excel saves "Unicode text").
	Encoding string
	// InlineStrings makes an XLSX file use inline strings instead of a
	// shared-strings table (Excel and WPS write shared strings; excelize's
	// StreamWriter writes inline strings).
	InlineStrings bool
	// NumericPct is the percentage of plain-digit mobile numbers written to
	// XLSX as NUMERIC cells (default 30; negative means none), as happens
	// when a column was never formatted as text.
	NumericPct float64
}

func (c Config) check() error {
	if c.Rows < 0 {
		return fmt.Errorf("leadgen: rows %d < 0", c.Rows)
	}
	if c.InvalidPct < 0 || c.DupPct < 0 || c.InvalidPct+c.DupPct > 100 {
		return fmt.Errorf("leadgen: invalid %% %g and duplicate %% %g must be >= 0 and add up to <= 100", c.InvalidPct, c.DupPct)
	}
	if c.Comma != 0 && (c.Comma == '"' || c.Comma == '\r' || c.Comma == '\n' || !utf8.ValidRune(c.Comma) || c.Comma >= utf8.RuneSelf) {
		return fmt.Errorf("leadgen: separator %q not allowed", c.Comma)
	}
	switch c.Encoding {
	case "", "utf-8", "utf8", "utf-8-bom", "gbk", "gb18030", "utf-16", "utf-16le":
	default:
		return fmt.Errorf("leadgen: encoding %q (want utf-8, utf-8-bom, gbk or utf-16)", c.Encoding)
	}
	return nil
}

func orDefault(v, def float64) float64 {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// Row is one generated data row.
type Row struct {
	// Name, Number, Remark and Agent are the cells as written (Number
	// formatted as a person typed it; Agent empty or 2000-2009).
	Name, Number, Remark, Agent string
	Kind                        Kind
	// NumberNumeric and AgentNumeric ask an XLSX writer for a NUMERIC
	// cell (the field is then all digits).
	NumberNumeric, AgentNumeric bool
	// POIDouble asks an XLSX writer to spell a numeric Number as Java's
	// Double.toString does (1.3800138E10), as CRM exports built on Apache
	// POI do. The value is the same number.
	POIDouble bool
}

// Generator produces rows one at a time, in bounded memory.
type Generator struct {
	cfg      Config
	rnd      rng
	landPct  float64
	numPct   float64
	recent   [1024]string // earlier valid numbers, for duplicates
	nRecent  int
	buf      []byte
	produced int
}

// NewGenerator returns a generator for cfg.
func NewGenerator(cfg Config) (*Generator, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	return &Generator{
		cfg:     cfg,
		rnd:     rng{uint64(cfg.Seed)*0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019},
		landPct: orDefault(cfg.LandlinePct, 8),
		numPct:  orDefault(cfg.NumericPct, 30),
		buf:     make([]byte, 0, 64),
	}, nil
}

// Next returns the next row; ok is false after Config.Rows rows.
func (g *Generator) Next() (row Row, ok bool) {
	if g.produced >= g.cfg.Rows {
		return Row{}, false
	}
	g.produced++
	r := &g.rnd
	row.Name = g.name()
	if r.intn(50) == 0 {
		row.Remark = oddRemarks[r.intn(len(oddRemarks))]
	} else {
		row.Remark = remarks[r.intn(len(remarks))]
	}
	if r.intn(10) < 3 {
		row.Agent = ""
	} else {
		row.Agent = agents[r.intn(len(agents))]
		row.AgentNumeric = r.intn(2) == 0
	}
	p := r.float() * 100
	switch {
	case p < g.cfg.InvalidPct:
		row.Kind = Invalid
		row.Number = g.invalid()
	case p < g.cfg.InvalidPct+g.cfg.DupPct && g.nRecent > 0:
		row.Kind = Duplicate
		n := g.nRecent
		if n > len(g.recent) {
			n = len(g.recent)
		}
		digits := g.recent[r.intn(n)]
		if len(digits) == 11 && digits[0] == '1' {
			row.Number = g.formatMobile(digits)
			row.NumberNumeric = row.Number == digits && r.float()*100 < g.numPct
		} else {
			row.Number = g.formatLandline(digits)
		}
		if r.intn(3) == 0 { // often the whole lead was pasted twice
			row.Name = g.name()
		}
	case r.float()*100 < g.landPct:
		row.Kind = Landline
		digits := g.landline()
		g.remember(digits)
		row.Number = g.formatLandline(digits)
	default:
		row.Kind = Mobile
		digits := g.mobile()
		g.remember(digits)
		row.Number = g.formatMobile(digits)
		if row.Number == digits && r.float()*100 < g.numPct {
			row.NumberNumeric = true
			row.POIDouble = r.intn(50) == 0
		}
	}
	return row, true
}

func (g *Generator) remember(digits string) {
	g.recent[g.nRecent%len(g.recent)] = digits
	g.nRecent++
}

// name returns a Chinese name (85%) or an English one.
func (g *Generator) name() string {
	r := &g.rnd
	if r.intn(100) < 15 {
		return firstNames[r.intn(len(firstNames))] + " " + lastNames[r.intn(len(lastNames))]
	}
	b := append(g.buf[:0], surnames[r.intn(len(surnames))]...)
	b = append(b, givenChars[r.intn(len(givenChars))]...)
	if r.intn(10) < 7 {
		b = append(b, givenChars[r.intn(len(givenChars))]...)
	}
	g.buf = b
	return string(b)
}

// mobile returns 11 digits with a real mobile prefix.
func (g *Generator) mobile() string {
	r := &g.rnd
	b := append(g.buf[:0], mobilePrefixes[r.intn(len(mobilePrefixes))]...)
	b = appendDigits(b, r.intn(100000000), 8)
	g.buf = b
	return string(b)
}

// landline returns a national number: trunk 0, a real area code, and a
// subscriber number of the right length starting 5, 6 or 8.
func (g *Generator) landline() string {
	r := &g.rnd
	a := areaCodes[r.intn(len(areaCodes))]
	b := append(g.buf[:0], a.code...)
	b = append(b, "568"[r.intn(3)])
	b = appendDigits(b, r.intn(pow10[a.digits-1]), a.digits-1)
	g.buf = b
	return string(b)
}

// formatMobile writes 11 mobile digits the way people type them.
func (g *Generator) formatMobile(d string) string {
	r := &g.rnd
	p := r.intn(100)
	b := g.buf[:0]
	switch {
	case p < 62:
		return d
	case p < 72: // 138 0013 8000
		b = append(append(append(append(append(b, d[:3]...), ' '), d[3:7]...), ' '), d[7:]...)
	case p < 79: // 138-0013-8000
		b = append(append(append(append(append(b, d[:3]...), '-'), d[3:7]...), '-'), d[7:]...)
	case p < 86: // +86 138-0013-8000
		b = append(b, "+86 "...)
		b = append(append(append(append(append(b, d[:3]...), '-'), d[3:7]...), '-'), d[7:]...)
	case p < 90:
		b = append(append(b, "+86"...), d...)
	case p < 94:
		b = append(append(b, "0086"...), d...)
	case p < 97: // full-width digits, as typed with a Chinese IME
		for i := 0; i < len(d); i++ {
			b = utf8.AppendRune(b, rune(d[i]-'0')+'０')
		}
	default: // stray spaces around, as pasted from a web page
		b = append(append(append(b, ' '), d...), ' ')
	}
	g.buf = b
	return string(b)
}

// formatLandline writes a national landline number (0 + area + subscriber).
func (g *Generator) formatLandline(d string) string {
	r := &g.rnd
	area := 3 // 0 + two-digit area code (010, 020-029)
	if d[1] != '1' && d[1] != '2' {
		area = 4
	}
	b := g.buf[:0]
	switch p := r.intn(100); {
	case p < 55: // 010-12345678
		b = append(append(append(b, d[:area]...), '-'), d[area:]...)
	case p < 75:
		return d
	case p < 85: // (010)12345678
		b = append(append(append(append(b, '('), d[:area]...), ')'), d[area:]...)
	default: // +86 10 1234 5678
		b = append(append(append(b, "+86 "...), d[1:area]...), ' ')
		s := d[area:]
		b = append(append(append(b, s[:len(s)-4]...), ' '), s[len(s)-4:]...)
	}
	g.buf = b
	return string(b)
}

// invalid returns a number a normalizer must refuse.
func (g *Generator) invalid() string {
	r := &g.rnd
	d := g.mobile()
	switch r.intn(9) {
	case 0:
		return d[:7] // too short
	case 1:
		return d[:10] + "A" // a letter
	case 2: // digits lost: Excel showed 1.38001E+10 and it was saved as text
		return d[:1] + "." + d[1:6] + "E+10"
	case 3:
		return ""
	case 4:
		return d + "9" // too long
	case 5:
		return "12" + d[2:] // no such prefix
	case 6:
		return "N/A"
	case 7:
		return "138-0013-800O" // a letter O for a zero
	default:
		return "无"
	}
}

// poiDouble spells 11 digits as Java's Double.toString does: 1.3800138E10.
func poiDouble(d string) string {
	m := d[1:]
	for len(m) > 0 && m[len(m)-1] == '0' {
		m = m[:len(m)-1]
	}
	if m == "" {
		m = "0"
	}
	return d[:1] + "." + m + "E10"
}

var pow10 = [...]int{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}

// appendDigits appends n as exactly width decimal digits.
func appendDigits(b []byte, n, width int) []byte {
	for i := width - 1; i >= 0; i-- {
		b = append(b, byte('0'+n/pow10[i]%10))
	}
	return b
}

// rng is splitmix64: tiny, fast, and fixed forever (unlike math/rand's
// helper methods, whose algorithms may change between Go releases).
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// intn returns a number in [0, n) (multiply-shift; the bias is negligible
// for the small n used here).
func (r *rng) intn(n int) int { return int((r.next() >> 32) * uint64(n) >> 32) }

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }
