package i18n

import (
	"regexp"
	"strings"
)

// Notice translates a sentence a run prints on its way — the column
// mapping, what the reader noticed about the file, a warning — into l.
// Like Reason, the producers write English and this is the one place that
// knows the Chinese; English comes back unchanged, and a sentence no rule
// knows is kept as it is. Names of files, columns, tasks and agents are
// carried over untouched.
func Notice(l Lang, english string) string {
	if l == En || english == "" {
		return english
	}
	for _, r := range noticeRules {
		if m := r.re.FindStringSubmatch(english); m != nil {
			return r.zh(m)
		}
	}
	return english
}

type noticeRule struct {
	re *regexp.Regexp
	zh func(m []string) string
}

// fieldZh names the four fields as the page and the Chinese help do.
var fieldZh = map[string]string{"name": "姓名", "number": "号码", "remark": "备注", "agentNumber": "座席工号"}

// mappingZh translates "name ← 姓名, number ← 手机号码, remark ← (none), …".
func mappingZh(s string) string {
	parts := strings.Split(s, ", ")
	for i, p := range parts {
		field, col, ok := strings.Cut(p, " ← ")
		if !ok {
			return s
		}
		if zh, ok := fieldZh[field]; ok {
			field = zh
		}
		if col == "(none)" {
			col = "（无）"
		}
		parts[i] = field + " ← " + col
	}
	return strings.Join(parts, "，")
}

// agentZh translates agents.Problem's sentence.
func agentZh(s string) string {
	for _, r := range []struct {
		re *regexp.Regexp
		zh string
	}{
		{regexp.MustCompile(`^agent (.+) does not exist in this account$`), "座席 $1 在此账户中不存在"},
		{regexp.MustCompile(`^agent (.+?)(?: \((.*)\))? is disabled$`), "座席 $1（$2）已停用"},
		{regexp.MustCompile(`^agent (.+?)(?: \((.*)\))? is locked$`), "座席 $1（$2）已锁定"},
		{regexp.MustCompile(`^agent (.+?)(?: \((.*)\))? is not enabled \((.*)\)$`), "座席 $1（$2）未启用（$3）"},
	} {
		if r.re.MatchString(s) {
			return strings.ReplaceAll(r.re.ReplaceAllString(s, r.zh), "（）", " ")
		}
	}
	return s
}

var noticeRules = []noticeRule{
	// job: the mapping, before anything is sent.
	{regexp.MustCompile(`^(.*): ((?:\w+ ← [^,]*)(?:, \w+ ← [^,]*)*)(?:; ignored: (.*))?$`), func(m []string) string {
		s := m[1] + "：" + mappingZh(m[2])
		if m[3] != "" {
			s += "；未使用的列：" + m[3]
		}
		return s
	}},
	// job: the agent check.
	{regexp.MustCompile(`^(.*): (agent .*): its (\d+) rows \(first: row (\d+)\) will be spread over the task's agents instead$`), func(m []string) string {
		return m[1] + "：" + agentZh(m[2]) + "：它的 " + m[3] + " 行（第一行在第 " + m[4] + " 行）将平均分配给任务的座席"
	}},
	{regexp.MustCompile(`^(.*): (agent .*): its row \(row (\d+)\) will be spread over the task's agents instead$`), func(m []string) string {
		return m[1] + "：" + agentZh(m[2]) + "：它的 1 行（第 " + m[3] + " 行）将平均分配给任务的座席"
	}},
	{regexp.MustCompile(`^could not check agents: (.*)$`), func(m []string) string {
		return "无法检查座席：" + m[1]
	}},
	// importer: what it noticed about the file.
	{regexp.MustCompile(`^(.*): header (.*) on row (\d+); rows above it skipped: (.*)$`), func(m []string) string {
		return m[1] + "：表头在第 " + m[3] + " 行，跳过了它上面的行：" + m[4]
	}},
	{regexp.MustCompile(`^(.*): sheet (".*") read: it is the first visible sheet with a number column \((.*) before it (?:has|have) none\)$`), func(m []string) string {
		return m[1] + "：读取工作表 " + m[2] + "：它是第一个有号码列的可见工作表（它前面的 " + m[3] + " 没有号码列）"
	}},
	{regexp.MustCompile(`^(.*): sheet (".*") read: the first visible sheet \(sheets: (.*)\)$`), func(m []string) string {
		return m[1] + "：读取工作表 " + m[2] + "：第一个可见工作表（全部工作表：" + m[3] + "）"
	}},
	{regexp.MustCompile(`^(.*): columns (\S+) and (\S+) are both headed (".*"): using (\S+)$`), func(m []string) string {
		return m[1] + "：第 " + m[2] + " 列和第 " + m[3] + " 列的表头都是 " + m[4] + "，使用第 " + m[5] + " 列"
	}},
	{regexp.MustCompile(`^(.*): where (.*) is empty, the number is taken from (.*) \(the first with a value\)$`), func(m []string) string {
		return m[1] + "：" + m[2] + " 为空时，号码取自 " + strings.ReplaceAll(m[3], ", then ", "，其次 ") + "（取第一个有值的列）"
	}},
	{regexp.MustCompile(`^(.*): an attention file: its row, status and reason columns are read as the earlier run's row and status, not as data$`), func(m []string) string {
		return m[1] + "：这是一个待处理文件：其 row、status、reason 列作为上次运行的行号和状态读取，不作为数据"
	}},
	// job: records and refusals.
	{regexp.MustCompile(`^the earlier import's report (.*) is now (.*)$`), func(m []string) string {
		return "上一次导入的报告 " + m[1] + " 已改名为 " + m[2]
	}},
	{regexp.MustCompile(`^waiting up to (\S+) for (.*)$`), func(m []string) string {
		return "最多等待 " + m[1] + "：" + m[2]
	}},
	{regexp.MustCompile(`^(.*): the task grew by (\d+) numbers during this run, (\d+) more than the (\d+) rows it imported: rows imported twice, or another import into the same task meanwhile$`), func(m []string) string {
		return m[1] + "：本次运行期间任务增加了 " + m[2] + " 个号码，比导入的 " + m[4] + " 行多 " + m[3] + " 个：可能有行被导入了两次，或同时有其他导入写入了该任务"
	}},
	{regexp.MustCompile(`^(.*): the task grew by (-?\d+) numbers during this run, (\d+) fewer than the (\d+) rows reported imported: rows missing from the task, or numbers deleted from it meanwhile$`), func(m []string) string {
		return m[1] + "：本次运行期间任务增加了 " + m[2] + " 个号码，比报告为已导入的 " + m[4] + " 行少 " + m[3] + " 个：任务中可能缺少这些行，或同时有号码被删除"
	}},
}
