package i18n

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNoticeTranslatesWhatARunSays(t *testing.T) {
	tests := []struct{ en, zh string }{
		{"leads.csv: name ← 客户名称, number ← 手机号码, remark ← (none), agentNumber ← 座席工号; ignored: 微信, 备用电话",
			"leads.csv：姓名 ← 客户名称，号码 ← 手机号码，备注 ← （无），座席工号 ← 座席工号；未使用的列：微信, 备用电话"},
		{"leads.csv: agent 2002 (王五) is disabled: its 316 rows (first: row 8) will be spread over the task's agents instead",
			"leads.csv：座席 2002（王五）已停用：它的 316 行（第一行在第 8 行）将平均分配给任务的座席"},
		{"leads.csv: agent 2009 does not exist in this account: its row (row 14) will be spread over the task's agents instead",
			"leads.csv：座席 2009 在此账户中不存在：它的 1 行（第 14 行）将平均分配给任务的座席"},
		{"leads.csv: agent 2003 is locked: its 2 rows (first: row 3) will be spread over the task's agents instead",
			"leads.csv：座席 2003 已锁定：它的 2 行（第一行在第 3 行）将平均分配给任务的座席"},
		{`export.csv: header found on row 3; rows above it skipped: "2026年11月展会线索", "导出时间: 2026-11-25"`,
			`export.csv：表头在第 3 行，跳过了它上面的行："2026年11月展会线索", "导出时间: 2026-11-25"`},
		{`book.xlsx: sheet "名单" read: it is the first visible sheet with a number column ("填写说明" before it has none)`,
			`book.xlsx：读取工作表 "名单"：它是第一个有号码列的可见工作表（它前面的 "填写说明" 没有号码列）`},
		{`a.csv: columns C and F are both headed "手机": using C`, `a.csv：第 C 列和第 F 列的表头都是 "手机"，使用第 C 列`},
		{`a.csv: where 手机 is empty, the number is taken from 座机, then 备用电话 (the first with a value)`,
			`a.csv：手机 为空时，号码取自 座机，其次 备用电话（取第一个有值的列）`},
		{"the earlier import's report a.results.csv is now a.results.20261125T020001.csv",
			"上一次导入的报告 a.results.csv 已改名为 a.results.20261125T020001.csv"},
		{"a.csv: the task grew by 25 numbers during this run, 5 more than the 20 rows it imported: rows imported twice, or another import into the same task meanwhile",
			"a.csv：本次运行期间任务增加了 25 个号码，比导入的 20 行多 5 个：可能有行被导入了两次，或同时有其他导入写入了该任务"},
	}
	for _, tt := range tests {
		if got := Notice(Zh, tt.en); got != tt.zh {
			t.Errorf("Notice(Zh, %q)\n got %q\nwant %q", tt.en, got, tt.zh)
		}
		if got := Notice(En, tt.en); got != tt.en {
			t.Errorf("Notice(En) changed %q", tt.en)
		}
	}
	if got := Notice(Zh, "something new"); got != "something new" {
		t.Errorf("an unknown sentence became %q", got)
	}
}

func FuzzNotice(f *testing.F) {
	f.Add("a.csv: name ← x, number ← y")
	f.Add("a: agent 1 () is disabled: its 2 rows (first: row 3) will be spread over the task's agents instead")
	f.Fuzz(func(t *testing.T, s string) {
		if Notice(En, s) != s {
			t.Fatal("English changed")
		}
		out := Notice(Zh, s)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 from %q", s)
		}
		if strings.Contains(s, "\n") && !strings.Contains(out, "\n") && out != s {
			t.Fatalf("a line break lost in %q", s)
		}
	})
}
