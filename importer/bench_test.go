package importer

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// benchRows is the size of the generated files (1,000,000 rows, as in issue 8).
const benchRows = 1_000_000

var benchNames = []string{"张伟", "王芳", "李娜", "刘洋", "陈静", "Alice Wang", "杨磊", "赵敏", "黄磊", "周杰"}

var benchMobilePrefixes = []string{"130", "131", "132", "133", "135", "136", "137", "138", "139",
	"150", "151", "152", "153", "155", "156", "157", "158", "159", "166", "176", "177", "178",
	"180", "181", "182", "183", "185", "186", "187", "188", "189", "191", "198", "199"}

// benchNumber returns a realistic mix: mostly plain mobiles, some written
// with +86 or separators, landlines, a few invalid and repeated numbers.
func benchNumber(rng *rand.Rand, i int) string {
	switch k := rng.IntN(100); {
	case k < 80:
		return fmt.Sprintf("%s%08d", benchMobilePrefixes[rng.IntN(len(benchMobilePrefixes))], i)
	case k < 85:
		return fmt.Sprintf("+86 13%d-%04d-%04d", rng.IntN(10), i/10000%10000, i%10000)
	case k < 92:
		return fmt.Sprintf("0%d-%08d", 10+rng.IntN(2)*10, 20000000+i%70000000)
	case k < 95:
		return fmt.Sprintf("1380%07d", rng.IntN(1000)) // repeats
	case k < 98:
		return fmt.Sprintf("138%07d", i%10000000) // a digit missing
	default:
		return "1.38001E+10"
	}
}

// writeBenchCSV generates the 1M-row CSV.
func writeBenchCSV(b testing.TB, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	fmt.Fprintln(w, "姓名,手机号码,备注,座席工号")
	for i := range benchRows {
		fmt.Fprintf(w, "%s,%s,备注%d,%d\n", benchNames[i%len(benchNames)], benchNumber(rng, i), i%100, 8000+i%50)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
}

// writeBenchXLSX generates the 1M-row XLSX the way Excel saves it: text in
// a shared-strings table, mobiles as number cells, the rest as text.
func writeBenchXLSX(b testing.TB, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	zw := zip.NewWriter(f)
	put := func(name string, fill func(w *bufio.Writer)) {
		zf, err := zw.Create(name)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriterSize(zf, 1<<20)
		fill(w)
		w.Flush()
	}
	put("[Content_Types].xml", func(w *bufio.Writer) {
		w.WriteString(`<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`)
	})
	put("_rels/.rels", func(w *bufio.Writer) {
		w.WriteString(`<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	})
	put("xl/workbook.xml", func(w *bufio.Writer) {
		w.WriteString(`<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	})
	put("xl/_rels/workbook.xml.rels", func(w *bufio.Writer) {
		w.WriteString(`<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`)
	})
	// Shared strings: 4 headers, the names, 100 remarks, then one per text number.
	rng := rand.New(rand.NewPCG(1, 2))
	numbers := make([]string, benchRows)
	for i := range numbers {
		numbers[i] = benchNumber(rng, i)
	}
	sst := []string{"姓名", "手机号码", "备注", "座席工号"}
	sst = append(sst, benchNames...)
	for i := range 100 {
		sst = append(sst, "备注"+strconv.Itoa(i))
	}
	textIdx := map[int]int{}
	for i, n := range numbers {
		if !allDigits(n) || len(n) != 11 { // mobiles are number cells, the rest text
			textIdx[i] = len(sst)
			sst = append(sst, n)
		}
	}
	put("xl/sharedStrings.xml", func(w *bufio.Writer) {
		fmt.Fprintf(w, `<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">`, len(sst), len(sst))
		for _, s := range sst {
			w.WriteString("<si><t>")
			w.WriteString(s)
			w.WriteString("</t></si>")
		}
		w.WriteString("</sst>")
	})
	put("xl/worksheets/sheet1.xml", func(w *bufio.Writer) {
		w.WriteString(`<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:D1000001"/><sheetData>`)
		w.WriteString(`<row r="1" spans="1:4"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c></row>`)
		for i, n := range numbers {
			r := strconv.Itoa(i + 2)
			fmt.Fprintf(w, `<row r="%s" spans="1:4"><c r="A%s" t="s"><v>%d</v></c>`, r, r, 4+i%len(benchNames))
			if j, ok := textIdx[i]; ok {
				fmt.Fprintf(w, `<c r="B%s" t="s"><v>%d</v></c>`, r, j)
			} else {
				fmt.Fprintf(w, `<c r="B%s" s="1"><v>%s</v></c>`, r, n)
			}
			fmt.Fprintf(w, `<c r="C%s" t="s"><v>%d</v></c><c r="D%s"><v>%d</v></c></row>`, r, 4+len(benchNames)+i%100, r, 8000+i%50)
		}
		w.WriteString(`</sheetData></worksheet>`)
	})
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	f.Close()
}

// cpuTime is the process's user+system CPU time: on a shared, loaded
// machine it is steadier than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchRead(b *testing.B, path string, opts Options) {
	b.ReportAllocs()
	cpu0 := cpuTime()
	defer func() { b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op") }()
	for b.Loop() {
		r, err := Open(context.Background(), path, opts)
		if err != nil {
			b.Fatal(err)
		}
		n, valid := 0, 0
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
			if rec.Status == Valid {
				valid++
			}
		}
		r.Close()
		if n != benchRows {
			b.Fatalf("read %d rows", n)
		}
	}
	b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkReadCSV1M(b *testing.B) {
	p := filepath.Join(b.TempDir(), "leads.csv")
	writeBenchCSV(b, p)
	b.Run("reader-rule1", func(b *testing.B) { benchRead(b, p, Options{}) })
	b.Run("reader-rule2", func(b *testing.B) { benchRead(b, p, Options{KeepRepeats: true}) })
	b.Run("encoding-csv-baseline", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := cpuTime()
		defer func() { b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op") }()
		for b.Loop() {
			f, _ := os.Open(p)
			cr := csv.NewReader(f)
			cr.ReuseRecord = true
			for {
				if _, err := cr.Read(); err != nil {
					break
				}
			}
			f.Close()
		}
	})
}

func BenchmarkReadXLSX1M(b *testing.B) {
	p := filepath.Join(b.TempDir(), "leads.xlsx")
	writeBenchXLSX(b, p)
	b.Run("reader-rule1", func(b *testing.B) { benchRead(b, p, Options{}) })
	b.Run("reader-rule2", func(b *testing.B) { benchRead(b, p, Options{KeepRepeats: true}) })
	b.Run("excelize-rows-baseline", func(b *testing.B) {
		// About 15 s and 3.7 GB of allocation an iteration: opt-in, so
		// that CI's -benchtime=1x stays brief.
		if os.Getenv("M7_BENCH_EXCELIZE") == "" {
			b.Skip("set M7_BENCH_EXCELIZE=1 to compare with excelize's Rows()")
		}
		b.ReportAllocs()
		cpu0 := cpuTime()
		defer func() { b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op") }()
		for b.Loop() {
			f, err := excelize.OpenFile(p, excelize.Options{TmpDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			rows, err := f.Rows("Sheet1")
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				if _, err := rows.Columns(); err != nil {
					b.Fatal(err)
				}
				n++
			}
			rows.Close()
			f.Close()
			if n != benchRows+1 {
				b.Fatalf("excelize read %d rows", n)
			}
		}
	})
}

func BenchmarkNormalize(b *testing.B) {
	n, err := NewNormalizer("CN", Strict)
	if err != nil {
		b.Fatal(err)
	}
	for _, in := range []string{"13800138000", "+86 138-0013-8000", "010-12345678", "400-800-1234", "1380013800"} {
		b.Run(in, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				n.Normalize(in)
			}
		})
	}
	b.Run("full-parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n.full("13800138000")
		}
	})
}

func BenchmarkNewNormalizer(b *testing.B) {
	for b.Loop() {
		NewNormalizer("CN", Strict)
	}
}

// BenchmarkReadFile reads the file named by $M7_READ_FILE (keeping
// repeats when $M7_RULE is 2) and reports rows per second; with
// $M7_GEN_DIR set it first writes leads.csv and leads.xlsx of 1M rows
// there. Without them it is skipped. For a whole process:
//
//	go test -c -o /tmp/importer.test ./importer/
//	M7_GEN_DIR=/tmp/m7 M7_READ_FILE=/tmp/m7/leads.csv /tmp/importer.test -test.run '^$' -test.bench BenchmarkReadFile -test.benchtime 1x
//	M7_READ_FILE=/tmp/m7/leads.csv M7_RULE=1 /usr/bin/time -v /tmp/importer.test -test.run '^$' -test.bench BenchmarkReadFile -test.benchtime 1x
func BenchmarkReadFile(b *testing.B) {
	if dir := os.Getenv("M7_GEN_DIR"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		writeBenchCSV(b, filepath.Join(dir, "leads.csv"))
		writeBenchXLSX(b, filepath.Join(dir, "leads.xlsx"))
	}
	p := os.Getenv("M7_READ_FILE")
	if p == "" {
		b.Skip("set M7_READ_FILE (and M7_GEN_DIR to generate it)")
	}
	keep := os.Getenv("M7_RULE") == "2" // rule 2 keeps repeats
	rows := 0
	for b.Loop() {
		r, err := Open(context.Background(), p, Options{KeepRepeats: keep})
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows++
		}
		r.Close()
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
