package leadgen

// The word lists. Every character is in GBK, so any row can be written in
// every supported encoding.

var surnames = []string{
	"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗",
	"郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡",
	"余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金",
	"石", "廖", "贾", "夏", "韦", "付", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹", "薛", "闫", "段", "雷", "侯",
	"龙", "史", "陶", "黎", "贺", "顾", "毛", "郝", "龚", "邵", "万", "钱", "严", "覃", "武", "戴", "莫", "孔", "向", "汤",
	"欧阳", "司马", "诸葛", "上官", "东方",
}

var givenChars = []string{
	"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀", "霞", "平",
	"刚", "桂", "英", "华", "玉", "萍", "红", "鹏", "辉", "建", "国", "文", "斌", "飞", "宇", "浩", "凯", "健", "俊", "帆",
	"帅", "旭", "宁", "龙", "林", "欣", "怡", "婷", "雪", "琳", "晨", "阳", "佳", "子", "涵", "梓", "轩", "一", "诺", "思",
	"雨", "博", "睿", "泽", "昊", "然", "晓", "海", "波", "亮", "志", "峰", "春", "燕", "梅", "兰", "丹", "慧", "颖", "倩",
	"嘉", "琪", "彤", "瑶", "悦", "馨", "淑", "珍", "莉", "薇", "蕾", "荣", "淼", "鑫", "喆", "翔", "彬", "坤", "毅", "锋",
}

var firstNames = []string{
	"James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
	"William", "Susan", "Richard", "Jessica", "Joseph", "Sarah", "Thomas", "Karen", "Kevin", "Lisa",
	"Daniel", "Nancy", "Tony", "Grace", "Jack", "Emma", "Leo", "Amy", "Eric", "Cindy",
}

var lastNames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson", "Anderson",
	"Taylor", "Thomas", "Moore", "Martin", "Lee", "Wong", "Chan", "Lam", "O'Brien", "Nguyen",
}

// remarks are short notes, most often none.
var remarks = []string{
	"", "", "", "", "", "", "", "", "", "", "老客户", "新客户", "意向强", "意向一般", "回访", "已加微信",
	"2024春季活动", "展会名单", "VIP", "转介绍", "官网留资", "勿在午休时间拨打", "上午联系", "晚上7点后",
	"follow up", "call back next week", "无", "已发资料",
}

// oddRemarks (about 2% of rows) hold a comma, a quote or a line break, or
// start with '-' or '=' (a spreadsheet would see a formula).
var oddRemarks = []string{
	"-", "需要报价, 尽快", "客户说\"下周再打\"", "地址: 北京市朝阳区\n第二行备注", "=备注", "  前后有空格  ",
}

var agents = []string{"2000", "2001", "2002", "2003", "2004", "2005", "2006", "2007", "2008", "2009"}

// mobilePrefixes are number blocks in use in mainland China; every number
// in them passes libphonenumber's CN validation (checked by a test). 174
// (satellite) is left out: most of its numbers do not validate.
var mobilePrefixes = []string{
	"130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
	"145", "147", "150", "151", "152", "153", "155", "156", "157", "158", "159",
	"166", "170", "171", "172", "173", "175", "176", "177", "178",
	"180", "181", "182", "183", "184", "185", "186", "187", "188", "189",
	"191", "193", "195", "196", "197", "198", "199",
}

// areaCodes are real area codes (with the trunk 0) and the length of their
// subscriber numbers.
var areaCodes = []struct {
	code   string
	digits int
}{
	{"010", 8}, {"020", 8}, {"021", 8}, {"022", 8}, {"023", 8}, {"024", 8}, {"025", 8}, {"027", 8},
	{"028", 8}, {"029", 8}, {"0755", 8}, {"0571", 8}, {"0512", 8}, {"0769", 8}, {"0757", 8},
	{"0531", 8}, {"0532", 8}, {"0574", 8}, {"0731", 8}, {"0371", 8}, {"0592", 7}, {"0351", 7},
}
