package i18n

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// sampleArgs fills each key's verbs, for checking that both languages take
// the same arguments.
var sampleArgs = map[Key][]any{
	SummaryImport:      {"leads.csv", 10, 5, 1, 1, 1, 1, 1},
	SummaryCheck:       {"leads.csv", 10, 8, 1, 1},
	SummaryBatches:     {3, 1, "1.5s"},
	SummaryTaskTotal:   {"T1", 100, 105, 5},
	SummaryReport:      {"leads.results.csv"},
	SummarySentThisRun: {20},
	SummaryKeptThisRun: {15, 20},
	SummarySettled:     {2},
	ProgressChecked:    {"leads.csv", 100, 90},
	ProgressOfTotal:    {"leads.csv", 40, 90, 44},
	ProgressSoFar:      {"leads.csv", 100, 90, 40},
	ProgressSending:    {"leads.csv"},
	ProgressChecking:   {"leads.csv"},
	ProgressRows:       nil,
	Resuming:           {"leads.csv", 3},
	ResumeWaiting:      {"leads.csv", "2m0s", "30s"},
	CreatedTask:        {"双十一", "T9"},
	Warning:            {"agent 2000 is disabled"},
	Hint:               {"m7import import --map number=联系方式 FILE"},
}

func TestCatalogHasEveryKeyInBothLanguages(t *testing.T) {
	for k := Key(0); k < numKeys; k++ {
		args, ok := sampleArgs[k]
		if !ok {
			t.Errorf("key %d has no sample arguments in this test", k)
		}
		en, zh := T(En, k, args...), T(Zh, k, args...)
		for _, s := range []string{catalog[k].en, catalog[k].zh} {
			if s == "" {
				t.Errorf("key %d: empty text", k)
			}
		}
		for _, s := range []string{en, zh} {
			if strings.Contains(s, "%!") {
				t.Errorf("key %d: verbs and arguments disagree: %q", k, s)
			}
		}
		if en == zh {
			t.Errorf("key %d: Chinese is the English %q", k, en)
		}
		for _, a := range args {
			if s, ok := a.(string); ok && (!strings.Contains(en, s) || !strings.Contains(zh, s)) {
				t.Errorf("key %d: argument %q missing from %q or %q", k, s, en, zh)
			}
		}
		if !utf8.ValidString(zh) {
			t.Errorf("key %d: invalid UTF-8", k)
		}
	}
}

func TestTMatchesTodaysEnglish(t *testing.T) {
	// The English is the CLI's current wording (cmd/m7import import.go and
	// progress.go, job/journal.go), so switching to T changes nothing.
	for _, tc := range []struct {
		k    Key
		args []any
		want string
	}{
		{SummaryImport, []any{"a.csv", 10, 5, 1, 1, 1, 1, 1}, "a.csv: 10 rows read: 5 imported, 1 invalid, 1 duplicate, 1 failed, 1 unconfirmed, 1 skipped"},
		{ProgressOfTotal, []any{"a.csv", 40, 90, 44}, "a.csv: 40 of 90 valid rows done (44%)"},
		{Resuming, []any{"a.csv", 3}, "resuming a.csv: 3 batches already imported"},
		{CreatedTask, []any{"x", "T9"}, `created task "x" (id T9)`},
		{ResumeWaiting, []any{"a.csv", "2m0s", "30s"}, "resuming a.csv: waiting 2m0s for the server to finish what the interrupted run sent 30s ago, before resending it"},
	} {
		if got := T(En, tc.k, tc.args...); got != tc.want {
			t.Errorf("T(En, %d) = %q, want %q", tc.k, got, tc.want)
		}
	}
	if got := T(Zh, ResumeWaiting, "a.csv", "2m0s", "30s"); got != "继续 a.csv：中断的运行在 30s 前发出的请求可能仍在处理，等待 2m0s 后再重发" {
		t.Errorf("Chinese reorders its arguments wrongly: %q", got)
	}
	if got := T(Zh, Key(-1)); got != "i18n.Key(-1)" {
		t.Errorf("unknown key: %q", got)
	}
}
