package importer

import (
	"strings"
	"testing"
)

// TestWideHeaderOfPhoneColumns: a header of thousands of phone columns
// (a hostile or broken export) is mapped in time linear in its width.
func TestWideHeaderOfPhoneColumns(t *testing.T) {
	n := 16000
	data := "手机," + strings.Repeat("电话2,", n) + "手机\n," + strings.Repeat(",", n-1) + "13800138000,\n"
	p := writeFixture(t, t.TempDir(), "wide.csv", []byte(data))
	recs, r, err := readAll(t, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Normalized != "13800138000" || !strings.Contains(recs[0].Reason, "number from column 电话2 (") {
		t.Errorf("records %+v", recs)
	}
	if len(r.Notes()) > 3 {
		t.Errorf("%d notes", len(r.Notes()))
	}
}
