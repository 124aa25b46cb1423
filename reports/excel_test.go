package reports

import (
	"bytes"
	"strings"
	"testing"

	"github.com/m7import/m7import/importer"
)

// csvLine returns the data line the CSV writer makes of rec (no BOM, no
// header).
func csvLine(t *testing.T, rec importer.Record) string {
	t.Helper()
	data := writeAll(t, CSV, []importer.Record{rec})
	_, line, ok := strings.Cut(string(data), "\n")
	if !ok {
		t.Fatalf("no data line in %q", data)
	}
	return line
}

func TestCSVReportKeepsNumbersAsText(t *testing.T) {
	for _, tc := range []struct {
		name                            string
		number, agent, normalized       string
		wantNumber, wantAgent, wantNorm string // cells as written
		readNumber                      string // number as read back
	}{
		{"mobile", "13800138000", "2000", "13800138000", "\t13800138000", "\t2000", "\t13800138000", "13800138000"},
		{"landline with leading zero", "075586013388", "0012", "075586013388", "\t075586013388", "\t0012", "\t075586013388", "075586013388"},
		{"international prefix", "008613800138000", "", "8613800138000", "\t008613800138000", "", "\t8613800138000", "008613800138000"},
		{"not digits only: as is", "138 0013 8000", "A12", "", "138 0013 8000", "A12", "", "138 0013 8000"},
		{"defused, not tabbed", "+86 138-0013-8000", "-1", "", "'+86 138-0013-8000", "'-1", "", "+86 138-0013-8000"},
		// Read back from a file we wrote and fed in again: no second TAB,
		// no apostrophe before our TAB.
		{"already tabbed", "\t075586013388", "\t0012", "", "\t075586013388", "\t0012", "", "075586013388"},
		{"tabbed and defused", "'\t075586013388", "", "", "\t075586013388", "", "", "075586013388"},
		{"tab before non-digits is defused", "\t138 0013", "", "", "'\t138 0013", "", "", "\t138 0013"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := importer.Record{Row: 2, Name: "0012", Remark: "075586013388", Number: tc.number,
				AgentNumber: tc.agent, Normalized: tc.normalized, Status: importer.Imported}
			line := csvLine(t, rec)
			want := "2,0012," + tc.wantNumber + ",075586013388," + tc.wantAgent + "," + tc.wantNorm + ",imported,,,\n"
			if line != want {
				t.Errorf("line %q, want %q (name and remark stay bare)", line, want)
			}
			got := readAll(t, writeAll(t, CSV, []importer.Record{rec}), CSV)
			if len(got) != 1 || got[0].Number != tc.readNumber {
				t.Fatalf("number read back %+v, want %q", got, tc.readNumber)
			}
			if got[0].Name != "0012" || got[0].Remark != "075586013388" {
				t.Errorf("name, remark read back %q, %q", got[0].Name, got[0].Remark)
			}
		})
	}
}

func TestCSVDefusingIsIdempotent(t *testing.T) {
	for _, tc := range []struct {
		cell, written, read string
	}{
		{"+86 138", "'+86 138", "+86 138"},
		{"'+86 138", "'+86 138", "+86 138"}, // our apostrophe: not doubled
		{"=1+1", "'=1+1", "=1+1"},
		{"'=1+1", "'=1+1", "=1+1"},
		{"'@x", "'@x", "@x"},
		{"'-5", "'-5", "-5"},
		{"'\ttab", "'\ttab", "\ttab"},
		{"''+86", "''+86", "''+86"}, // not ours: left alone both ways
		{"'quoted", "'quoted", "'quoted"},
		{"'", "'", "'"},
	} {
		rec := importer.Record{Row: 2, Name: tc.cell, Status: importer.Invalid}
		line := csvLine(t, rec)
		if want := "2," + tc.written + ","; !strings.HasPrefix(line, want) {
			t.Errorf("%q written as %q, want prefix %q", tc.cell, line, want)
		}
		// A fix-and-reimport round trip, three times over.
		data := writeAll(t, CSV, []importer.Record{rec})
		for range 3 {
			got := readAll(t, data, CSV)
			if len(got) != 1 || got[0].Name != tc.read {
				t.Fatalf("%q read back as %+v, want %q", tc.cell, got, tc.read)
			}
			again := writeAll(t, CSV, got)
			if !bytes.Equal(again, data) {
				t.Fatalf("%q: written again %q, first %q", tc.cell, again, data)
			}
			data = again
		}
	}
}
