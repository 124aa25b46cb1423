package i18n

// The reasons m7import writes, in English as the producers write them, and
// their Chinese. Where a current English reason does not say how to fix the
// row, its Chinese already does, and the wording suggested for the English
// (see Suggested) is listed too, so the producer can be changed once without
// losing its translation. Keep the producers' files in step with this one:
// importer/errors.go and normalize.go (number reasons), importer/reader.go
// and detect.go (duplicates, the fallback column), upload/upload.go and
// api/reason.go (API replies), settle (numberTotal), pipeline and job
// (rows never sent), journal (resume), deleter and rollback.

// exactZh holds the reasons that are fixed strings.
var exactZh = map[string]string{
	// importer: the sentinels of importer/errors.go, as Normalize returns them.
	"missing number": "缺少号码：请填写号码，或删除此行",
	"missing number: fill in the number or delete the row":                                   "缺少号码：请填写号码，或删除此行",
	"number in scientific notation, digits lost: format the column as text and export again": "号码是科学计数法，末尾数字已丢失：请把该列设为文本格式后重新导出",
	"letters in number": "号码中有字母：请只保留数字（是否把 0 写成了 O、把 1 写成了 l？）",
	"letters in number: keep only the digits (an O for a 0? an l for a 1?)": "号码中有字母：请只保留数字（是否把 0 写成了 O、把 1 写成了 l？）",
	"extension not supported": "不支持分机号：请去掉分机部分（如“转 8”），只保留能直拨的号码",
	"extension not supported: keep the number without its extension (转 8, ext. 8); an extension cannot be dialled": "不支持分机号：请去掉分机部分（如“转 8”），只保留能直拨的号码",
	"too short": "号码位数太少：缺了数字，请核对号码（座机需加区号）",
	"too short: digits are missing; check the number (a landline needs its area code)": "号码位数太少：缺了数字，请核对号码（座机需加区号）",
	"too long": "号码位数太多：一行只填一个号码（如 18612345678/13912345678 请拆成两行），并检查是否多输了数字",
	"too long: one number per row (split 18612345678/13912345678 into two rows); check for extra digits": "号码位数太多：一行只填一个号码（如 18612345678/13912345678 请拆成两行），并检查是否多输了数字",
	"not a number of the region": "不是本地区的号码：请使用 --region 或 --number-policy loose",
	"not a valid number":         "号码无效：请与原始资料核对号码",
	"a quoted cell runs over lines that look like other rows (an unclosed quote?): fix the quote and import those rows again": "一个带引号的单元格跨越了看似其他行的多行（引号未闭合？）：请修正引号后重新导入这些行",
	"not a phone number": "不是电话号码：请在此单元格填写电话号码",
	"not a phone number: put the phone number in this cell":                             "不是电话号码：请在此单元格填写电话号码",
	"numeric cell is not a whole number":                                                "数值单元格不是整数：请把该列设为文本格式并填写号码",
	"invalid country code":                                                              "国家代码无效：请检查 + 后面的数字（中国为 +86）",
	"invalid country code: check the digits after + (China is +86)":                     "国家代码无效：请检查 + 后面的数字（中国为 +86）",
	"10 digits starting with 1: a digit may be missing":                                 "以 1 开头的 10 位数字：可能少了一位，请与原始资料核对号码",
	"10 digits starting with 1: a digit may be missing; check the number at its source": "以 1 开头的 10 位数字：可能少了一位，请与原始资料核对号码",
	"12 digits starting with 1: a digit too many":                                       "以 1 开头的 12 位数字：多了一位，请删去多余的数字",
	"12 digits starting with 1: a digit too many; delete the extra digit":               "以 1 开头的 12 位数字：多了一位，请删去多余的数字",

	// pipeline, upload, deleter: rows never sent.
	"not sent: the run stopped first":                                                                        "未发送：运行在此之前已停止；请用 --resume 重新运行同一命令来发送",
	"not sent: the run stopped first; run the same command with --resume to send it":                         "未发送：运行在此之前已停止；请用 --resume 重新运行同一命令来发送",
	"not sent: the run was stopped":                                                                          "未发送：运行已被停止；请用 --resume 重新运行同一命令来发送",
	"not sent: the run was stopped; run the same command with --resume to send it":                           "未发送：运行已被停止；请用 --resume 重新运行同一命令来发送",
	"not sent: the file could not be read to the end":                                                        "未发送：文件未能读到末尾；请修复文件后用 --resume 重新运行同一命令",
	"not sent: the file could not be read to the end; fix the file, then run the same command with --resume": "未发送：文件未能读到末尾；请修复文件后用 --resume 重新运行同一命令",

	// settle: the task's numberTotal.
	"outcome unknown (the batch was not being tracked)":                                       "结果未知（未跟踪该批次）",
	"outcome unknown: the run stopped while waiting to settle it from the task's numberTotal": "结果未知：在根据任务号码总数（numberTotal）确认之前运行已停止；请用 --resume 重新运行来确认",

	// journal: resume.
	"imported (settled from the task's numberTotal after an interrupted run)":                               "已导入（中断的运行之后，根据任务号码总数 numberTotal 确认）",
	"sent by an interrupted run, outcome unknown; not resent under rule 2 (--resend-unconfirmed to resend)": "由中断的运行发出，结果未知；按规则 2 不会重发：请先在任务中核对这些号码，缺少时用 --resend-unconfirmed 重发",

	// rollback.
	"the report gives no normalized number for this row": "报告中此行没有规范化号码，无法删除：请在任务中手动核对该号码",

	// api: transport.
	"request not sent":          "请求未发出",
	"request sent, no reply":    "请求已发出，未收到回复",
	"context deadline exceeded": "超时（context deadline exceeded）",
}

// rules are tried in order on a reason that is not a fixed string; the first
// that matches the whole reason translates it. Suffixes come first (they are
// the outermost layer a producer added), then prefixes, then the cores with
// numbers, columns and messages in them.
var rules = []rule{
	// Suffixes.
	newRule(`(.+); not resent under rule 2 \(it could import the rows twice\)`,
		"{1}；按规则 2 不会重发（重发可能使这些号码导入两次）：请先在任务中核对这些号码，缺少时用 --resume --resend-unconfirmed 重发", rsn),
	newRule(`(.+); not resent under rule 2 \(it could import the rows twice\): check the task for these numbers; if they are missing, run again with --resume --resend-unconfirmed`,
		"{1}；按规则 2 不会重发（重发可能使这些号码导入两次）：请先在任务中核对这些号码，缺少时用 --resume --resend-unconfirmed 重发", rsn),
	newRule(`(.+); run the same command with --resume to send it again`,
		"{1}；请用 --resume 重新运行同一命令再次发送", rsn),
	newRule(`(.+); retries used up: (.+)`, "{1}；重试次数已用完：{2}", rsn, rsn),
	newRule(`(.+) \(after (\d+) attempts\)`, "{1}（共尝试 {2} 次）", rsn),
	newRule(`(.+) \(request id ([^()]*)\)`, "{1}（请求 ID {2}）", rsn),
	newRule(`(.+); number from column (.+) \((.+) was empty\)`, "{1}；号码取自列 {2}（{3} 为空）", rsn),
	newRule(`(.+); deleting again is safe`, "{1}；再次删除是安全的：请重新运行删除命令", rsn),

	// Prefixes.
	newRule(`outcome unknown: (.+)`, "结果未知：{1}", rsn),
	newRule(`the server asked to wait (\S+) \(Retry-After\), longer than --retry-max (\S+): (.+)`,
		"服务器要求等待 {1}（Retry-After），超过 --retry-max {2}：{3}；请调大 --retry-max 后用 --resume 重新运行", lit, lit, rsn),
	newRule(`the server asked to wait (\S+) \(Retry-After\), longer than --retry-max (\S+)`,
		"服务器要求等待 {1}（Retry-After），超过 --retry-max {2}：请调大 --retry-max 后用 --resume 重新运行"),
	newRule(`same number as row (\d+): (.+)`, "与第 {1} 行号码相同，结果同该行：{2}", lit, rsn),
	newRule(`same number as row (\d+)`, "与第 {1} 行号码相同，结果同该行"),
	newRule(`encode batch: (.+)`, "批次编码失败：{1}"),
	newRule(`not sent: the run stopped first \((.+)\)`, "未发送：运行在此之前已停止（{1}）；请用 --resume 重新运行同一命令来发送"),
	newRule(`not sent: journal: (.+)`, "未发送：写入日志（journal）失败：{1}；请解决后用 --resume 重新运行"),
	newRule(`not sent: the file cannot be read to the end \(row (\d+)\)`,
		"未发送：文件在第 {1} 行处无法读下去：请修复文件后重新运行"),
	newRule(`not sent: (\d+) of (\d+) rows invalid, over --max-invalid (\S+)`,
		"未发送：{2} 行中有 {1} 行无效，超过 --max-invalid {3}：请修正无效的行（见检查报告和需处理文件），或调高 --max-invalid"),
	newRule(`not sent: (\d+) of (\d+) rows invalid, over --max-invalid (\S+); fix the invalid rows \(see the check report and the attention file\) or raise --max-invalid`,
		"未发送：{2} 行中有 {1} 行无效，超过 --max-invalid {3}：请修正无效的行（见检查报告和需处理文件），或调高 --max-invalid"),

	// importer: reasons with numbers, regions, columns.
	newRule(`duplicate of row (\d+)`, "与第 {1} 行号码重复：该号码只从第 {1} 行导入一次（除非其中一个号码有误，否则无需处理）"),
	newRule(`duplicate of row (\d+): the number is sent once, from row (\d+) \(nothing to fix unless one of the two is wrong\)`,
		"与第 {1} 行号码重复：该号码只从第 {1} 行导入一次（除非其中一个号码有误，否则无需处理）"),
	newRule(`number from column (.+) \((.+) was empty\)`, "号码取自列 {1}（{2} 为空）"),
	newRule(`numeric cell (.+) is not a whole number`, "数值单元格 {1} 不是整数：请把该列设为文本格式并填写号码"),
	newRule(`numeric cell (.+) is not a whole number: format the column as text and enter the digits`,
		"数值单元格 {1} 不是整数：请把该列设为文本格式并填写号码"),
	newRule(`\+(\d+) number: not a (.+) number; use --region or --number-policy loose`,
		"+{1} 号码：不是{2}号码；请使用 --region 指定地区，或使用 --number-policy loose", lit, region),
	newRule(`\+(\d+) number: not a valid number`, "+{1} 号码无效：请核对号码的数字"),
	newRule(`\+(\d+) number: not a valid number: check its digits`, "+{1} 号码无效：请核对号码的数字"),
	newRule(`(\d+) digits: a landline number needs its area code`, "{1} 位数字：座机号码需要区号，请加上区号（如 010、0755）"),
	newRule(`not a valid (.+) number`, "不是有效的{1}号码：请与原始资料核对号码", region),
	newRule(`not a valid (.+) number: check its digits against the source`, "不是有效的{1}号码：请与原始资料核对号码", region),

	// api: the reply, or the transport.
	newRule(`HTTP (\d+) code ([^:]*): (.*)`, "HTTP {1}，错误码 {2}：{3}"),
	newRule(`code ([^:]*): (.*)`, "错误码 {1}：{2}"),
	newRule(`7moor (\S+): request not sent: (.*connection refused.*)`,
		"7moor {1}：请求未发出，连接被拒绝（{2}）：请检查 M7_BASE_URL 和网络"),
	newRule(`7moor (\S+): request not sent: (.+)`, "7moor {1}：请求未发出：{2}"),
	newRule(`7moor (\S+): request sent, no reply: (.+)`, "7moor {1}：请求已发出，未收到回复：{2}"),

	// settle.
	newRule(`the task's numberTotal could not be read to settle it \((.*)\)`,
		"无法读取任务号码总数（numberTotal）来确认（{1}）；请用 --resume 重新运行来确认"),
	newRule(`the task grew by (-?\d+) numbers, which no set of the batches in doubt explains \((.+); between 0 and (\d+) expected\): another import into the same task\?`,
		"任务号码数增加了 {1}，任何一组待定批次都无法解释（{2}；预期在 0 到 {3} 之间）：是否有另一次导入写入同一任务？请在任务中核对这些号码", lit, batchs),
	newRule(`imported: the reply was lost, and the task's numberTotal \((\d+), ([+-]\d+) beyond the batches known to be imported\) shows this batch landed`,
		"已导入：回复丢失，但任务号码总数（{1}，比已知导入的批次多 {2}）表明该批次已导入"),
	newRule(`not imported: the task's numberTotal \((\d+)\) shows this batch did not land, (\S+) after it was sent`,
		"未导入：发送 {2} 后，任务号码总数（{1}）表明该批次没有导入"),
}
