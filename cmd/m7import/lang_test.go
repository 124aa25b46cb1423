package main

import (
	"context"
	"strings"
	"testing"

	"github.com/m7import/m7import/api/sim"
)

// Under a Chinese locale (or --lang zh) reasons, the summary and hints are
// Chinese; statuses and the report's columns never change.
func TestChineseLocale(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  string
		args []string
	}{
		{"LANG=zh_CN.UTF-8", "zh_CN.UTF-8", nil},
		{"--lang zh", "", []string{"--lang", "zh"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, sim.Config{})
			e.env["LANG"] = tt.env
			task := e.srv.CreateTask("t")
			rows := validRows(3)
			rows = append(rows, []string{"坏号码", "1380013800A", "", ""})
			in := e.leads(t, "a.csv", rows)
			r := e.run(t, context.Background(), append([]string{"import", in, "--task-id", task, "--rate", "0"}, tt.args...)...)
			if r.code != exitOK || !strings.Contains(r.stder, "读取 4 行：已导入 3，无效 1") || !strings.Contains(r.stder, "号码 ← 手机号码") {
				t.Fatalf("exit %d, summary not in Chinese:\n%s", r.code, r.stder)
			}
			recs := readReport(t, strings.TrimSuffix(in, ".csv")+".results.csv")
			last := recs[len(recs)-1]
			if last.Status != "invalid" || !strings.Contains(last.Reason, "请") {
				t.Fatalf("report row: status %q reason %q, want invalid with a Chinese reason", last.Status, last.Reason)
			}
			if recs[0].Status != "imported" {
				t.Fatalf("status %q: statuses stay English", recs[0].Status)
			}
		})
	}
	e := newTestEnv(t, sim.Config{})
	if r := e.run(t, context.Background(), "validate", "x.csv", "--lang", "fr"); r.code != exitUsage {
		t.Fatalf("--lang fr: exit %d", r.code)
	}
}
