# Rally — 简体中文。键必须与 messages/en/rally.ftl 一致（tests/messages.rs 检查）。

## 错误
error-too-long = 消息太长了：最多 { $max } 个字符。
error-unknown-command = 没有 /{ $command } 这个命令。发送 /help 查看可用命令。
error-usage = 用法：{ $usage }
error-bad-sale-id = “{ $text }”不是销售编号：请使用销售记录上的数字，例如 12。
error-name-too-long = 名称太长：最多 { $max } 个字符。
error-unclosed-quote = 引号没有闭合：请把客户名写在"引号之间"。
error-not-registered = 您还没有加入项目：请向经理索取邀请码，然后发送 /start 邀请码。
error-no-partner = 此账号未关联合作伙伴，不能报单或持有销售记录。
error-forbidden = 只有经理可以执行此操作。
error-internal = 抱歉，系统出了点问题，没有做任何更改。参考编号：{ $reference }
sent-privately = 详情已私信发送给您。

## 金额
amount-empty = 请填写金额，例如 /report 12500 ACME。
amount-zero = 金额必须大于零。
amount-negative = 金额不能为负数。
amount-too-large = 金额过大（超过 1,000,000,000,000）。
amount-too-precise = 小数位太多：此币种最多 { $max } 位。
amount-bad-grouping = 逗号用于千位分隔（12,500），小数点用“.”（12,500.50）。
amount-conflicting-currency = 同时给出了两种币种：{ $first } 和 { $second }。请只用一种。
amount-unknown-currency = 不认识币种“{ $code }”。请使用 ISO 代码，例如 USD。
amount-invalid = “{ $token }”不是有效金额。示例：12500、12,500.50、1.2万、3k、¥12,500、12500 USD。

## 帮助与加入
help-header = { $program } — 命令：
help-line = { $line }
welcome-guest = 欢迎来到 { $program }！发送 /start 加上经理给您的邀请码即可加入。
welcome-back = 欢迎回来，{ $name }！发送 /help 查看您在 { $program } 中可以做什么。
invite-unknown = 邀请码“{ $code }”无效。请检查，或向经理索取新的邀请码。
invite-used = 该邀请码已被使用。请向经理索取新的邀请码。
invite-expired = 该邀请码已过期。请向经理索取新的邀请码。
invite-other-partner = 此账号已属于另一个合作伙伴。
joined-partner = 加入成功！此账号现在为 { $partner } 报单。
joined-role = 加入成功，身份：{ $role }。
joined-next = 发送 /help 查看可用命令。
link-code = 您的关联码：{ $code } — 请在 { $minutes } 分钟内从另一个账号发送 /link { $code }。
joined-linked = 您的 { $other } 和 { $this } 账号现已关联为同一人：通知会发到您最近与我对话的平台（用 /notify telegram|discord 指定）。
notify-current = 通知发送到：{ $choice }（auto = 您最近与我对话的平台）。您的账号：{ $platforms }。可用 /notify telegram、/notify discord 或 /notify auto 更改。
notify-set = 好的，通知将发送到您的 { $platform } 账号。
notify-auto = 好的，通知将发送到您最近与我对话的平台。
notify-unknown = “{ $platform }” 不是有效选项：请用 /notify telegram、/notify discord 或 /notify auto。
notify-no-account = 您还没有关联 { $platform } 账号。请在这里发送 /link，然后在 { $platform } 上向机器人发送 /link 关联码。

## 语言
lang-current = 当前语言：{ $locale }。使用 /lang en 或 /lang zh-CN 切换。
lang-unknown = 暂不支持“{ $locale }”。请选择 en 或 zh-CN。
lang-set = 好的，之后我会用中文和您交流。

## 销售
report-approved = 销售 #{ $sale } 已记录并批准：{ $amount } · { $customer }。
report-pending = 销售 #{ $sale } 已记录：{ $amount } · { $customer }，等待经理审批。
report-converted = 按项目币种计为 { $amount }。
report-period-total = 您在 { $period } 的已批准销售额：{ $total }{ $pending ->
        [0] {""}
       *[other] （{ $pending } 笔待审批）
    }。
report-no-rate = 没有 { $currency } 的汇率：请用 { $program } 报单，或请经理添加汇率。
pending-new = 新销售 #{ $sale } 待审批：{ $partner } · { $amount } · { $customer }
button-approve = 批准
button-reject = 驳回
sales-none = 您还没有销售记录。用 /report 12500 ACME 报一单吧。
sales-header = 您最近的 { $count } 笔销售：
sales-line = #{ $sale } { $date } { $amount } · { $customer } — { $status ->
        [approved] 已批准
        [pending] 待审批
        [rejected] 已驳回
        [cancelled] 已撤回
       *[other] { $status }
    }
sale-not-found = 没有您可以操作的销售 #{ $sale }。
sale-already-decided = 销售 #{ $sale } 已经{ $status ->
        [approved] 批准
        [pending] 在待审批中
        [rejected] 被驳回
        [cancelled] 撤回
       *[other] 处理
    }。
sale-not-reporter = 只有提交销售 #{ $sale } 的成员可以撤回它。
sale-approved = 销售 #{ $sale }（{ $amount } · { $customer }）已由 { $by } 批准。
sale-rejected = 销售 #{ $sale }（{ $amount } · { $customer }）已被 { $by } 驳回。
sale-cancelled = 销售 #{ $sale }（{ $amount } · { $customer }）已撤回。
your-sale-approved = 您的销售 #{ $sale }（{ $amount } · { $customer }）已获批准。
your-sale-rejected = 您的销售 #{ $sale }（{ $amount } · { $customer }）被驳回。原因：{ $reason }
pending-none = 没有待审批的销售。
pending-header = 共 { $count } 笔销售待审批：
pending-line = #{ $sale } { $partner } · { $amount } · { $customer }

## 排行与业绩
rank-empty = { $period } 还没有已批准的销售。来报第一单吧：/report
rank-header = { $period } 排行榜（{ $partners } 个合作伙伴）：
rank-line = { $place }. { $partner } — { $total }
rank-me = 您：第 { $place } 名，{ $total }。
rank-gap = 再多 { $gap } 即可超过第 { $place } 名。
rank-me-none = 您本期还没有已批准的销售。
me-header = { $partner } — { $period }
me-sales = 已批准销售额：{ $total }（{ $count } 笔）
me-rank = 排名：第 { $place } / { $partners }
me-pending = 待审批：{ $count } 笔

## 邀请
invite-created = { $partner } 的邀请码：{ $code }（有效期至 { $expires }）。合作伙伴向机器人发送 /start { $code } 即可加入。
invite-link = 或打开：{ $link }

## 审计
audit-none = 审计日志为空。
audit-header = 最近 { $count } 条审计记录：
audit-line = #{ $id } { $when } { $actor }：{ $action } { $subject } { $change }

## 终端演示
console-to = [发给 { $member }]
console-as-list = 当前身份：{ $current }。成员：{ $members }
console-as = 已切换为 { $member }。
console-as-unknown = 没有成员“{ $member }”。成员：{ $members }

## 激励：对账单
error-bad-number = “{ $text }”不是数字：请使用显示的编号，例如 2。
error-bad-period = “{ $text }”不是有效期间：请使用 2026-11 这样的格式。
partner-unknown = 没有合作伙伴“{ $partner }”。
statement-header = { $partner } 的 { $period } 对账单 — 方案 { $plan }（{ $state ->
        [locked] 已锁定
       *[draft] 草稿，期间结束前可能变化
    }）：
statement-empty = 暂无明细。
statement-total = 合计：{ $total } · 销售额 { $sales } · 目标达成 { $attainment }%
line-commission-marginal = { $id }. { $amount } — 对 { $lower } 至 { $upper } 区间的 { $base } 销售额按 { $rate }% 计佣
line-commission-marginal-top = { $id }. { $amount } — 对 { $lower } 以上的 { $base } 销售额按 { $rate }% 计佣
line-commission-whole = { $id }. { $amount } — 已达到 { $lower } 档，全部 { $base } 销售额按 { $rate }% 计佣
line-accelerator = { $id }. { $amount } — 加速：超过 { $from }（目标的 { $above_attainment }%）的 { $base } 销售额按 { $rate }% 的 { $multiplier } 倍计，额外 { $extra_rate }%
line-category = { $id }. { $amount } — { $category } 品类 { $base } 销售额按 { $rate }% 计佣
line-cap = { $id }. { $amount } — 封顶：佣金 { $before } 限制为 { $cap }
line-bonus = { $id }. { $amount } — 达到目标 { $target } 的 { $threshold }% 的奖金（达成 { $attainment }%）
line-volume-rebate = { $id }. { $amount } — 量返：销售额 { $base } 超过门槛 { $threshold }，返 { $rate }%
line-growth-rebate = { $id }. { $amount } — 增长返利：增长额 { $base } 的 { $rate }%（{ $sales } 对比去年同期 { $last_year }）
line-adjustment = { $id }. { $amount } — 调整：{ $reason }
line-prize = { $id }. { $amount } — { $contest } 第 { $rank } 名奖励
why-no-line = 没有第 { $line } 行：对账单共 { $count } 行。请查看 /statement。
why-detail = 类型 { $kind } · 基数 { $base } · 费率 { $rate }% · 区间 { $lower } – { $upper } · 方案 { $plan }
whatif-header = 再增加 { $amount }：合计 { $total_before } → { $total_after }（{ $change }）。
whatif-line = { $kind ->
        [commission] 佣金
        [accelerator] 加速
        [category] 品类佣金
        [cap] 封顶
        [bonus] 奖金
        [volume_rebate] 量返
        [growth_rebate] 增长返利
        [adjustment] 调整
        [prize] 奖励
       *[other] { $kind }
    }：{ $before } → { $after }
whatif-attainment = 目标达成：{ $before }% → { $after }%
whatif-rank = 排名：第 { $before } → 第 { $after }
whatif-tier = 等级：{ $before } → { $after }
feedback-recorded = 已为 { $partner } 记录 { $score }/5 的客户反馈。
adjust-recorded = 已为 { $partner } 在 { $period } 对账单记录调整 { $amount }。
dispute-opened = 关于第 { $line } 行的申诉 #{ $dispute } 已提交，经理会回复。
dispute-new = { $partner } 对 { $period } 第 { $line } 行提出申诉 #{ $dispute }：{ $reason } — 用 /answer { $dispute } <回复> 答复
dispute-unknown = 没有申诉 #{ $dispute }。
dispute-answered = 申诉 #{ $dispute } 已经答复过了。
dispute-answer-sent = 已发送对申诉 #{ $dispute } 的答复。
dispute-your-answer = 您的申诉 #{ $dispute }（{ $period } 第 { $line } 行）的答复：{ $answer }
allocate-failed = 无法分配预算：{ $reason }
allocate-done = 分配 #{ $run }：{ $budget } 已分给 { $partners } 个合作伙伴。合作伙伴可用 /funds 查看自己的份额。
funds-none = 还没有分配资金。
funds-share = 您在分配 #{ $run } 中的份额：{ $amount }（总预算 { $budget }）。
funds-inputs = 依据：潜力 { $potential }，近 12 个月销售额 { $trailing }，增长 { $growth }；占比 { $potential_share } / { $contribution_share } / { $growth_share }，权重 { $weights }。
me-growth = 上期 { $previous }（{ $vs_previous }）· 去年同期 { $last_year }（{ $vs_last_year }）
me-coverage = 本期客户数：{ $customers }
me-feedback = 客户反馈（90 天）：{ $average }/5，共 { $ratings } 条
me-feedback-none = 客户反馈（90 天）：暂无
me-attainment = 目标达成：{ $attainment }%
me-tier = 等级：{ $tier }（近 12 个月：{ $trailing }）
me-next-tier = 下一等级 { $tier }：还需销售 { $sales }；需要的认证：{ $certifications }
me-training = 认证：{ $certifications } · 已完成培训：{ $completed }，已报名：{ $upcoming }（/trainings）

## Platform command menus
cmd-start = 用邀请码加入项目
cmd-link = 关联账号（或获取关联码）
cmd-help = 查看可用命令
cmd-lang = 切换语言
cmd-notify = 选择接收通知的平台
cmd-report = 报单
cmd-sales = 最近的销售记录
cmd-cancel = 撤回待审批的销售
cmd-rank = 本期排行榜
cmd-me = 我的业绩卡
cmd-invite = 邀请合作伙伴
cmd-pending = 待审批的销售
cmd-approve = 批准销售
cmd-reject = 驳回销售
cmd-audit = 最近的管理操作
cmd-statement = 我的对账单
cmd-why = 解释对账单明细
cmd-whatif = 再多一单会怎样
cmd-feedback = 记录客户反馈
cmd-adjust = 调整对账单
cmd-dispute = 申诉对账单明细
cmd-answer = 答复申诉
cmd-allocate = 分配资金预算
cmd-funds = 我的资金份额

## Telegram
telegram-start-first = 我还不能私信您：请打开 { $link } 并点击“开始”，然后再试一次。

## Slash command options (Discord)
opt-code = 您收到的代码
opt-locale = en 或 zh-CN
opt-amount = 金额，例如 12500、1.2万、3k
opt-currency = 币种代码，例如 USD
opt-customer = 客户名称
opt-category = 产品品类
opt-note = 备注
opt-evidence = 证明销售的照片或文件
opt-sale = 销售编号
opt-partner = 合作伙伴名称
opt-kind = 类型：dealer、agent、wholesaler、retailer 或 distributor
opt-region = 区域
opt-tier = 等级
opt-reason = 原因
opt-period = 期间，例如 2026-11
opt-line = 对账单行号
opt-score = 1 到 5
opt-comment = 评语
opt-dispute = 申诉编号
opt-text = 您的答复
opt-budget = 要分配的预算

## Slash command names (Discord); English keeps the typed names
cmdname-start = 开始
cmdname-link = 关联
cmdname-help = 帮助
cmdname-lang = 语言
cmdname-notify = 通知
cmdname-report = 报单
cmdname-sales = 我的销售
cmdname-cancel = 撤回
cmdname-rank = 排行
cmdname-me = 业绩
cmdname-invite = 邀请
cmdname-pending = 待审批
cmdname-approve = 批准
cmdname-reject = 驳回
cmdname-audit = 审计
cmdname-statement = 对账单
cmdname-why = 为什么
cmdname-whatif = 假如
cmdname-feedback = 反馈
cmdname-adjust = 调整
cmdname-dispute = 申诉
cmdname-answer = 答复
cmdname-allocate = 分配
cmdname-funds = 资金

## 用法行中的参数名（`/report <金额> …`），由命令注册表生成。
param-code = 邀请码
param-locale = en|zh-CN
param-platform = telegram|discord|auto
param-amount = 金额
param-currency = 币种
param-customer = 客户
param-category = 品类
param-note = 备注
param-evidence = 凭证
param-sale = 编号
param-partner = 伙伴名称
param-kind = 类型
param-region = 区域
param-tier = 等级
param-reason = 原因
param-period = 期间
param-line = 行号
param-score = 1-5
param-comment = 评语
param-delta = ±金额
param-dispute = 申诉号
param-text = 回复
param-budget = 预算
opt-delta = 要增加的金额，前加负号表示扣减
ask-argument = 请回复此消息，填写{ $param }：
    { $command }
announcement = { $text }
tier-promoted = 🎉 { $partner } 晋升为 { $tier }！恭喜！
close-reminder-soon = 期间 { $period } 将于 { $ends } 结束。结束后请运行：rally close-period { $period }
close-reminder-due = 期间 { $period } 已结束，请立即结账：rally close-period { $period }
cmd-bindchat = 将本群设为项目群
cmd-unbindchat = 不再向本群推送
cmdname-bindchat = 绑定群
cmdname-unbindchat = 解绑群
bindchat-private = /bindchat 需要在群组或频道中发送。
bindchat-done = 本群已设为项目群：公告和表彰将发布在这里。
bindchat-done-region = 本群已设为 { $region } 区域的项目群。
unbindchat-not-bound = 本群不是项目群。
unbindchat-done = 本群已不再是项目群。
cmd-announce = 发送公告
cmd-schedule = 定时公告
cmd-scheduled = 待发送的定时公告
cmd-unschedule = 取消定时公告
cmd-broadcasts = 最近的公告及送达情况
cmdname-announce = 公告
cmdname-schedule = 定时公告
cmdname-scheduled = 定时列表
cmdname-unschedule = 取消定时
cmdname-broadcasts = 公告记录
param-filters = 筛选
param-when = HH:MM|YYYY-MM-DDTHH:MM|"cron"
param-broadcast = 公告号
opt-filters = 可选：region=、tier=、kind=、platform=telegram|discord、to=chats|members|all
opt-when = HH:MM、YYYY-MM-DDTHH:MM，或加引号的 cron 表达式
opt-broadcast = 公告编号
error-unknown-filter = 未知的筛选条件“{ $key }”。请在正文前使用 region=、tier=、kind=、platform=telegram|discord 或 to=chats|members|all。
error-bad-filter = “{ $value }”不是 { $key }= 的有效值。
error-bad-when = “{ $text }”不是时间：请使用 HH:MM、YYYY-MM-DDTHH:MM，或加引号的 cron 表达式，例如 "0 0 9 * * Mon"。
error-time-past = 该时间已过，请选择未来的时间。
error-no-such-time = 项目时区中不存在该时间（夏令时切换），请另选时间。
announce-nobody = 没有匹配的对象：既没有项目群（在群里发送 /bindchat），也没有符合条件的成员。未发送任何内容。
announce-queued = 公告 #{ $id } 正在发送给 { $chats } 个群和 { $members } 位成员。送达后您会收到报告。
schedule-done = 公告 #{ $id } 已定于 { $when } 发送。/scheduled 查看待发送；/unschedule { $id } 取消。
scheduled-none = 没有待发送的定时公告。
scheduled-header = 定时公告（{ $count }）：
scheduled-line = #{ $id } 下次 { $when } { $repeat } — { $text }
unschedule-unknown = 没有编号为 #{ $id } 的定时公告。
unschedule-done = 公告 #{ $id } 已取消。
broadcasts-none = 还没有公告。
broadcasts-header = 最近的公告：
broadcasts-line = #{ $id } { $when } { $status }：已发送 { $sent }，失败 { $failed }，等待 { $pending } — { $text }
broadcast-report = 公告 #{ $id }：已发送 { $sent }，失败 { $failed }{ $refused ->
    [0] {""}
   *[other] （屏蔽机器人：{ $refused }）
}。

## Training
cmd-trainings = 近期培训与我的报名
cmd-enroll = 报名培训
cmd-leave = 退出培训
cmd-checkin = 培训签到
cmd-rate = 评价培训
cmd-quiz = 回答培训测验题
cmdname-trainings = 培训
cmdname-enroll = 报名
cmdname-leave = 退出培训
cmdname-checkin = 签到
cmdname-rate = 评价
cmdname-quiz = 测验
param-training = 培训
param-stars = 1-5
param-question = 题号
param-choice = 选项
button-stars = { $stars }★
button-choice = { $n }. { $text }
training-list-head = 培训：
training-none = 目前没有适合您的近期培训。
training-line = • { $id } · { $title }（{ $level }）· { $start } · { $venue } · 剩余名额：{ $seats }
training-you-enrolled =   您：已报名。
training-you-waitlisted =   您：在候补名单中。
training-you-attended =   您：已签到。
training-you-completed =   您：已完成。
training-manager-line =   签到码 { $code } · 已报名 { $enrolled }/{ $capacity } · 候补 { $waitlisted } · 已签到 { $attended }
training-unknown = 没有名为“{ $name }”的培训。现有培训：{ $list }。
training-started = { $title } 已经开始：报名和退出均已关闭。
training-not-eligible = { $title } 仅面向 { $who } 合作伙伴。
training-already-enrolled = 您已报名 { $title }。
training-already-waitlisted = 您已在 { $title } 的候补名单中。
training-enrolled = 您已报名 { $title }，时间 { $start }（{ $venue }）。届时请用 /checkin 加现场提供的签到码签到。
training-waitlisted = { $title } 已满：您是候补第 { $position } 位，有人退出时将自动为您保留名额。
training-left = 您已退出 { $title }。
training-not-enrolled = 您未报名 { $title }。
training-promoted = 有名额空出：您已成功报名 { $title }，时间 { $start }。
training-checkin-unknown = “{ $code }” 不是任何培训的签到码。
training-checkin-early = { $title } 的签到将于 { $time } 开放。
training-checkin-over = { $title } 已结束，签到已关闭。
training-checkin-again = 您已签到 { $title }。
training-checkin-ok = 已签到 { $title }，祝学习愉快！
training-rate-stars = 请用 1 到 5 星评价，而不是 { $stars }。
training-rate-not-attended = 只有签到了 { $title } 的成员才能这样做。
training-rate-closed = { $title } 的评价已在培训结束一周后关闭。
training-rate-again = 您已评价过 { $title }，谢谢！
training-rate-thanks = 感谢您对 { $title } 的评价：{ $stars }★。
training-reminder = 提醒：{ $title } 将在 { $left } 后开始，时间 { $start }。{ $venue }
training-ask-rating = { $title } 怎么样？请点星评价，或发送 /rate { $id } 1-5 加评论。
training-quiz-question = { $title } 测验，第 { $n } 题（共 { $total } 题）：{ $question }
training-quiz-old = 这道题已经回答过了。
training-quiz-choice = 请选择 1 到 { $choices } 之间的答案。
training-quiz-not-yet = { $title } 的测验将在培训结束后开放。
training-no-quiz = { $title } 没有测验。
training-quiz-passed = 测验通过：答对 { $score } / { $total } 题。
training-quiz-failed = 测验：答对 { $score } / { $total } 题，需要 { $pass } 题。可向管理员了解下一期培训。
training-completed = 您已完成 { $title }。
training-certified = 您的合作伙伴已获得认证：{ $certification }。
training-summary = { $title }：报名 { $enrolled }，出席 { $attended }，平均评分 { $rating }（{ $ratings } 条评价），测验通过 { $passed } / { $taken }。
training-summary-comment = “{ $comment }”
training-report = { $title }（{ $day }），培训前后各 { $days } 天的已批准销售额（每个合作伙伴平均）：参训（{ $attendees }）{ $att_before } → { $att_after }；符合条件但未参训（{ $others }）{ $oth_before } → { $oth_after }。
training-report-difference = 双重差分：每个合作伙伴 { $difference }。
training-report-no-comparison = 两组中有一组为空，无法比较。
training-report-partial = “培训后”窗口到 { $until } 结束，数字仍会变化。
training-report-caution = 这只是两组之间的比较，不能证明差异由培训造成。
training-report-unknown = 没有名为“{ $name }”的培训。
cmd-trainingreport = 培训前后的销售对比
cmdname-trainingreport = 培训报告
## Contests (issue 10)
cmd-contests = 进行中和即将开始的竞赛及您的名次；“past” 查看往届
cmdname-contests = 竞赛
param-contest = 竞赛
opt-contest = 竞赛的编号或名称（不填则为本期排行榜）
param-past = past
opt-past = 填写 “past” 查看已结束的竞赛及获奖者
contest-none = 本计划没有竞赛。
contest-unknown = 没有名为“{ $text }”的竞赛。现有竞赛：{ $list }
contest-upcoming = { $contest } 将于 { $start } 开始。/contests 查看进行中的竞赛。
contest-board-header = { $contest } — { $metric }，截至 { $end }（还剩 { $days } 天），{ $partners } 个合作伙伴达标：
contest-board-final = { $contest } — 最终排名（{ $partners } 个合作伙伴达标）：
contest-board-empty = 还没有人达标。
contest-line-money = { $place }. { $partner } — { $value }
contest-line-count = { $place }. { $partner } — { $value } 笔
contest-line-customers = { $place }. { $partner } — { $value } 个新客户
contest-line-growth = { $place }. { $partner } — { $value }
contest-line-attainment = { $place }. { $partner } — 目标完成 { $value }
contest-line-nobase = { $place }. { $partner } — { $value }（基期无销售）
contest-line-notarget = { $place }. { $partner } — { $value }（无目标）
contest-me = 您：第 { $place } 名 — { $value }。
contest-gap-money = 再多 { $gap } 销售额即可超过第 { $place } 名。
contest-gap-sales = 再多 { $gap } 笔销售即可超过第 { $place } 名。
contest-gap-customers = 再多 { $gap } 个新客户即可超过第 { $place } 名。
contest-not-qualified = 您尚未达标：还差 { $needed } 销售额。
contest-no-standing = 您在本竞赛中还没有已批准的销售（从 { $start } 起计）。
contest-out-of-scope = 您的合作伙伴不在本竞赛范围内，因此不参与排名。
contest-metric-sales-amount = 销售额
contest-metric-sales-count = 销售笔数
contest-metric-growth-rate = 增长率
contest-metric-target-attainment = 目标完成率
contest-metric-new-customers = 新客户数
contest-handicap = 按各自目标计算
contest-post-header = 🏆 { $contest } — 还剩 { $days } 天，{ $partners } 个合作伙伴达标：
contest-final-header = 🏁 { $contest } 已结束。获奖者：
contest-winner = { $place }. { $partner } — { $prize }
contest-chart-subtitle = 还剩 { $days } 天 · { $partners } 个合作伙伴达标
contests-header = 竞赛：
contests-running = { $contest }（{ $id }）— { $metric }，截至 { $end }（还剩 { $days } 天）
contests-upcoming = { $contest }（{ $id }）— { $metric }，{ $start } 至 { $end }
contests-place = · 您：第 { $place } / { $partners } 名
contests-unqualified = · 您：尚未达标（还差 { $needed } 销售额）
contests-outside = · 您的合作伙伴不在范围内
contests-entered = · 您已参加
contests-empty = 目前没有进行中或即将开始的竞赛。/contests past 查看往届。
contests-past-header = 往届竞赛：
contests-past-line = { $contest }（{ $id }，{ $start } – { $end }）：{ $winners }
contests-past-nobody = 无人达标
contests-past-empty = 还没有结束的竞赛。
## 电视页面（GET /tv）：办公室大屏排行榜。
tv-heading = 排行榜
tv-period = 周期 { $period }
tv-time-left = 剩余 { $days } 天 { $hours } 小时 { $minutes } 分钟
tv-ended = 本周期已结束
tv-latest = 最新销售
tv-empty = 还没有已批准的销售——第一单就能领先！
tv-offline = 正在重新连接…
tv-unauthorized = 此电视链接没有有效的令牌。请用 `rally tvlink` 生成新链接。
tv-unknown-contest = 没有竞赛“{ $contest }”。`rally contests list` 列出所有竞赛。
## Alerts: the weekly digest and nudges (issue 12)
cmd-mute = 关闭某类通知：nudges（每周的“差一点”提醒）
cmdname-mute = 静音
cmd-unmute = 重新打开某类通知：nudges
cmdname-unmute = 取消静音
param-notices = nudges
mute-unknown = “{ $what }” 无法静音：请选择 { $choices }。
nudges-muted = 已关闭提醒。用 /unmute nudges 重新打开。
nudges-unmuted = 已打开提醒：每周最多一条，在您接近等级或奖金时发送。
nudge-title = 就差一点：
nudge-mute-hint = （每周最多一条。用 /mute nudges 关闭。）
alert-near-tier = { $who ->
    [manager] • { $partner }：再销售 { $gap } 即可升至 { $tier }（近 12 个月）
   *[partner] 近 12 个月销售再增加 { $gap }，即可升至 { $tier }。
}
alert-near-bonus = { $who ->
    [manager] • { $partner }：本期再销售 { $gap } 即可获得 { $attainment }% 奖金
   *[partner] 本期再销售 { $gap } 即可获得 { $attainment }% 奖金。
}
alert-near-bonus-sales = { $who ->
    [manager] • { $partner }：本期再销售 { $gap } 即可获得 { $attainment }% 奖金（约 { $sales } 单）
   *[partner] 按您的平均单额，再成交约 { $sales } 单（{ $gap }）即可获得本期 { $attainment }% 奖金。
}
digest-title = 每周摘要（截至 { $week } 的各周）
digest-quiet = 本周没有需要您处理的事项。
digest-slumps = 销售下降 { $percent }% 或以上（{ $count }）：最近 { $recent } 周对比各伙伴此前 { $baseline } 周
digest-slump = • { $partner }：每周 { $recent }，此前每周 { $baseline }（−{ $drop }%）
digest-near = 接近等级或奖金（差距在 { $percent }% 以内，{ $count }）：
digest-pending = 等待审批超过 48 小时的销售（{ $count }）：/pending
digest-pending-sale = • #{ $sale } { $partner } { $amount }，报告于 { $reported }
digest-disputes = 未答复的争议（{ $count }）：/answer
digest-dispute = • #{ $dispute } { $partner }，{ $period } 第 { $line } 行，提出于 { $opened }
digest-more = … 另有 { $count } 条

# --- community: deals ---
cmd-deal = 报备客户，在保护期内归您的伙伴所有
cmd-deals = 您报备的客户及到期时间
cmd-conflicts = 未决的渠道冲突
cmd-resolve = 裁决渠道冲突：判给一方或拆分销售
cmdname-deal = 报备
cmdname-deals = 我的报备
cmdname-conflicts = 渠道冲突
cmdname-resolve = 裁决
param-expected = 预计金额
param-conflict = 冲突
param-decision = 伙伴|split <百分比>
opt-expected = 预计成交金额，例如 80000
opt-conflict = 冲突编号
opt-decision = 判给的伙伴，或 "split 60"（报单伙伴所得百分比）
deal-registered = { $customer } 已为您的伙伴报备，保护至 { $until }。
deal-extended = { $customer } 已由您的伙伴报备：保护期延长至 { $until }。
deal-conflict = { $customer } 已由其他伙伴报备，保护至 { $until }。经理将做出裁决，结果会通知您。
deal-bad-customer = 客户名称至少需要一个字母或数字。
deals-none = 您还没有报备客户。用 /deal ACME 80000 -- 备注 报备一个吧。
deals-header = 共 { $count } 个报备客户：
deals-line = { $customer } — 保护至 { $until }（剩余 { $days } 天）· 预计 { $expected }
deal-reminder = 您对 { $customer } 的报备将于 { $until } 到期。发送 /deal { $customer } 即可续期。
report-conflict = { $customer } 已由其他伙伴报备，保护至 { $until }：销售 #{ $sale } 将等待经理裁决归属。
conflict-new = ⚔️ 渠道冲突 #{ $conflict }，客户 { $customer }：
conflict-line = 冲突 #{ $conflict }，客户 { $customer }：
conflict-holder = · { $partner } 于 { $since } 报备“{ $registered }”，保护至 { $until } · 预计 { $expected } · 备注：{ $note }
conflict-claim-sale = · { $partner } 报单销售 #{ $sale }：{ $amount }，日期 { $date }
conflict-claim-deal = · { $partner } 申请报备 · 预计 { $expected } · 备注：{ $note }
button-award = 判给 { $partner }
button-split-even = 五五分成
conflicts-none = 没有未决的渠道冲突。
conflicts-header = 共 { $count } 个未决的渠道冲突：
conflict-not-found = 没有冲突 #{ $conflict }。/conflicts 列出未决的冲突。
conflict-closed = 冲突 #{ $conflict } 已关闭（{ $status }），未做任何更改。
conflict-bad-split = 分成比例须为 1 到 99 的整数（报单伙伴所得百分比），例如 /resolve { $conflict } split 60。
conflict-no-sale = 冲突 #{ $conflict } 是两个报备之间的冲突，没有可拆分的销售：请判给其中一方。
conflict-not-a-side = “{ $partner }”不是冲突 #{ $conflict } 的一方：请判给 { $holder } 或 { $claimant }。
conflict-awarded = 冲突 #{ $conflict }（客户 { $customer }）已裁决：判给 { $partner }。
conflict-sale-credited = 销售 #{ $sale }（{ $amount }）已批准并计入 { $partner }。
conflict-split-done = 冲突 #{ $conflict }（客户 { $customer }）已裁决：销售 #{ $sale } 已批准并拆分——{ $claimant } { $percent }%（{ $claimant_amount }），{ $holder } { $rest }%（{ $holder_amount }）。
your-conflict-won-sale = 经理已就 { $customer } 的冲突裁决判给您：您的销售 #{ $sale }（{ $amount }）已批准并计入您，该客户现已为您的伙伴报备。
your-conflict-lost-sale = 经理已就 { $customer } 的冲突做出裁决：客户归报备的伙伴，您的销售 #{ $sale } 计入该伙伴。
your-conflict-split = 经理拆分了您的销售 #{ $sale }（{ $customer }）：{ $percent }% 已批准并计入您（{ $amount }）。
your-conflict-won-deal = 经理已就 { $customer } 的冲突裁决判给您：该客户已为您的伙伴报备至 { $until }。
your-conflict-lost-deal = 经理已就 { $customer } 的冲突做出裁决：客户归先报备的伙伴。
your-deal-credited = 经理就您报备的客户 { $customer } 的冲突做出裁决：一笔 { $amount } 的销售计入您。
your-deal-split = 经理就您报备的客户 { $customer } 的冲突做出裁决：一笔销售的 { $percent }% 计入您（{ $amount }）。
your-deal-released = 经理就 { $customer } 的冲突做出裁决：该客户不再为您的伙伴报备。
sale-in-conflict = 销售 #{ $sale } 正在等待渠道冲突 #{ $conflict } 的裁决：请用 /resolve { $conflict } <伙伴> 或 /resolve { $conflict } split <百分比>。
pending-line-conflict = #{ $sale } { $partner } · { $amount } · { $customer } — 渠道冲突 #{ $conflict }，请用 /resolve 裁决

# --- community: points, badges, kudos (issue 11) ---
cmd-kudos = 感谢一位成员或伙伴（不带参数：今日剩余次数和本周榜单）
cmdname-kudos = 点赞
param-member = 成员
opt-member = @用户名、提及或伙伴名称（回复对方消息时可省略）
me-points = 积分：{ $points } · 徽章：{ $badges }（/rank points）
points-rank-empty = 还没有积分——已批准的销售、点赞、培训和竞赛都能获得积分。
points-rank-header = 积分排行榜（{ $partners } 个伙伴）
points-rank-line = { $place }. { $partner } — { $points } 分
points-rank-me = 您：第 { $place } 名，{ $points } 分。
points-rank-me-none = 您还没有积分。
badge-earned = 🏅 { $partner } 获得徽章“{ $badge }”！
badges-earned-many = 🏅 最新导入的销售带来了 { $count } 枚新徽章。用 /me 查看你的徽章，用 /rank points 查看积分榜。
kudos-post = 👏 { $from } 感谢 { $to }：{ $reason }
kudos-sent = 已向 { $to } 点赞。今天还剩 { $left } 次。
kudos-status = 今天还剩 { $left } / { $daily } 次点赞。用 /kudos @成员 理由 点赞（或回复对方消息：/kudos 理由）。
kudos-week-header = 本周最受感谢：
kudos-week-line = { $place }. { $partner } — { $count } 次
kudos-week-none = 本周还没有点赞。
kudos-disabled = 本计划未开启点赞。
kudos-no-reason = 请写明理由：/kudos @成员 理由。
kudos-reason-too-long = 理由太长（最多 { $max } 个字符）。
kudos-unknown = 找不到“{ $who }”：请用 @用户名或提及、回复对方消息，或写伙伴名称。
kudos-unknown-author = 该消息的作者不是本计划中任何伙伴的成员。
kudos-self = 不能给自己点赞。
kudos-own-partner = 点赞只能给其他伙伴的成员，不能给自己伙伴。
kudos-over-allowance = 今天的 { $daily } 次点赞已用完，明天再来。
kudos-cooldown = 您刚感谢过对方，请 { $minutes } 分钟后再试。

# --- community: stories (issue 11) ---
cmd-story = 分享成功案例（带图片：图片说明写 /story …）
cmdname-story = 案例
cmd-stories = 最新案例和本周最受欢迎案例
cmdname-stories = 案例列表
cmd-react = 为案例点反应（按钮的作用）
cmdname-react = 反应
cmd-feature = 精选案例：重新发布，并为其伙伴加分
cmdname-feature = 精选
cmd-hide = 隐藏案例（审核）
cmdname-hide = 隐藏
param-photo = 图片
opt-photo = 案例配图
param-story = 案例
opt-story = 案例编号
param-reaction = 反应
opt-reaction = clap、fire 或 idea
story-button = { $emoji } { $count }
story-post = 🌟 案例 #{ $story }，来自 { $partner }（{ $author }）：
story-featured = ⭐ 精选案例 #{ $story }，来自 { $partner }（{ $author }）：
story-of-week = 🏆 本周最佳案例：#{ $story }，来自 { $partner }（{ $author }）：
story-text = { $text }
story-shared = 案例 #{ $story } 已发布到 { $chats } 个计划群。谢谢分享！
story-empty = 请在命令后写下案例：/story 我们签下了三年合同……
story-too-long = 案例太长：最多 { $max } 个字符，以便在所有群中完整显示。
story-unknown = 没有案例 #{ $story }。
story-reacted = 已为案例 #{ $story } 添加反应：{ $counts }
story-unreacted = 已撤回对案例 #{ $story } 的反应：{ $counts }
stories-none = 还没有案例——用 /story 分享您的案例。
stories-header = 最新案例：
stories-line = #{ $story } { $featured }{ $partner }：{ $text }
stories-week = 本周最受欢迎（{ $reactions } 个反应）：
stories-week-none = 本周还没有反应。
story-already-featured = 案例 #{ $story } 已是精选。
story-featured-done = 案例 #{ $story } 已精选并重新发布；其伙伴获得 { $points } 积分。
story-hidden = 案例 #{ $story } 已从所有列表中隐藏（未发布任何消息）。
