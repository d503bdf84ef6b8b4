# Rally — English messages. Keys must match messages/zh-CN/rally.ftl (tests/messages.rs).

## Errors
error-too-long = That message is too long: at most { $max } characters, please.
error-unknown-command = I don't know /{ $command }. Send /help to see what I can do.
error-usage = Usage: { $usage }
error-bad-sale-id = “{ $text }” is not a sale number: use the number shown with the sale, like 12.
error-name-too-long = That name is too long: at most { $max } characters.
error-unclosed-quote = A quote is not closed: put the customer name "between quotes".
error-not-registered = You're not in the program yet: ask a manager for an invite code, then send /start CODE.
error-no-partner = This account is not linked to a partner, so it cannot report or hold sales.
error-forbidden = Only managers can do that.
error-internal = Sorry, something went wrong on our side. Nothing was changed. Reference: { $reference }
sent-privately = I've sent you the details in a private message.

## Amounts
amount-empty = Please give an amount, like /report 12500 ACME.
amount-zero = The amount must be more than zero.
amount-negative = The amount cannot be negative.
amount-too-large = That amount is too large (more than 1,000,000,000,000).
amount-too-precise = Too many decimals: at most { $max } for this currency.
amount-bad-grouping = Commas separate thousands (12,500) and the decimal point is “.” (12,500.50).
amount-conflicting-currency = Two different currencies were given: { $first } and { $second }. Use one.
amount-unknown-currency = I don't know the currency “{ $code }”. Use an ISO code like USD.
amount-invalid = “{ $token }” is not an amount. Examples: 12500, 12,500.50, 1.2万, 3k, ¥12,500, 12500 USD.

## Help and joining
help-header = { $program } — commands:
help-line = { $line }
welcome-guest = Welcome to { $program }! To join, send /start followed by the invite code a manager gave you.
welcome-back = Welcome back, { $name }! Send /help to see what you can do in { $program }.
invite-unknown = The code “{ $code }” is not valid. Check it, or ask a manager for a new one.
invite-used = That invite code has already been used. Ask a manager for a new one.
invite-expired = That invite code has expired. Ask a manager for a new one.
invite-other-partner = This account already belongs to another partner.
joined-partner = You're in! This account now reports for { $partner }.
joined-role = You're in, as { $role }.
joined-next = Send /help to see what you can do.
link-code = Your link code: { $code } — send /link { $code } from your other account within { $minutes } minutes.

## Language
lang-current = Your language is { $locale }. Change it with /lang en or /lang zh-CN.
lang-unknown = I don't speak “{ $locale }” yet. Choose en or zh-CN.
lang-set = Done: I'll speak English with you.

## Sales
report-approved = Sale #{ $sale } recorded and approved: { $amount } · { $customer }.
report-pending = Sale #{ $sale } recorded: { $amount } · { $customer }. A manager will approve it.
report-converted = Counted as { $amount } in program currency.
report-period-total = Your approved total for { $period }: { $total }{ $pending ->
        [0] {""}
        [one] {" "}(1 sale pending)
       *[other] {" "}({ $pending } sales pending)
    }.
report-no-rate = There is no exchange rate for { $currency }: report in { $program } or ask a manager to add the rate.
pending-new = New sale #{ $sale } to approve: { $partner } · { $amount } · { $customer }
button-approve = Approve
button-reject = Reject
sales-none = You have no sales yet. Report one with /report 12500 ACME.
sales-header = Your latest { $count ->
        [one] sale
       *[other] { $count } sales
    }:
sales-line = #{ $sale } { $date } { $amount } · { $customer } — { $status ->
        [approved] approved
        [pending] pending
        [rejected] rejected
        [cancelled] cancelled
       *[other] { $status }
    }
sale-not-found = There is no sale #{ $sale } you can act on.
sale-already-decided = Sale #{ $sale } is already { $status ->
        [approved] approved
        [pending] pending
        [rejected] rejected
        [cancelled] cancelled
       *[other] decided
    }.
sale-not-reporter = Only the member who reported sale #{ $sale } can cancel it.
sale-approved = Sale #{ $sale } ({ $amount } · { $customer }) approved by { $by }.
sale-rejected = Sale #{ $sale } ({ $amount } · { $customer }) rejected by { $by }.
sale-cancelled = Sale #{ $sale } ({ $amount } · { $customer }) cancelled.
your-sale-approved = Your sale #{ $sale } ({ $amount } · { $customer }) was approved.
your-sale-rejected = Your sale #{ $sale } ({ $amount } · { $customer }) was rejected. Reason: { $reason }
pending-none = No sales are waiting for approval.
pending-header = { $count ->
        [one] 1 sale is
       *[other] { $count } sales are
    } waiting for approval:
pending-line = #{ $sale } { $partner } · { $amount } · { $customer }

## Ranking and scorecard
rank-empty = No approved sales in { $period } yet. Be the first: /report
rank-header = Ranking for { $period } ({ $partners } partners):
rank-line = { $place }. { $partner } — { $total }
rank-me = You: #{ $place } with { $total }.
rank-gap = { $gap } more to pass #{ $place }.
rank-me-none = You have no approved sales in this period yet.
me-header = { $partner } — { $period }
me-sales = Approved sales: { $total } ({ $count ->
        [one] 1 sale
       *[other] { $count } sales
    })
me-rank = Rank: #{ $place } of { $partners }
me-pending = Pending approval: { $count }

## Invites
invite-created = Invite for { $partner }: { $code } (valid until { $expires }). The partner sends /start { $code } to the bot.
invite-link = Or open: { $link }

## Audit
audit-none = The audit log is empty.
audit-header = Latest { $count } audit entries:
audit-line = #{ $id } { $when } { $actor }: { $action } { $subject } { $change }

## Terminal demo
console-to = [to { $member }]
console-as-list = You are { $current }. Members: { $members }
console-as = You are now { $member }.
console-as-unknown = There is no member “{ $member }”. Members: { $members }

## Incentives: statements
error-bad-number = “{ $text }” is not a number: use the number shown, like 2.
error-bad-period = “{ $text }” is not a period: use the form 2026-11.
partner-unknown = There is no partner “{ $partner }”.
statement-header = Statement of { $partner } for { $period } — plan { $plan } ({ $state ->
        [locked] locked
       *[draft] draft, changes until the period closes
    }):
statement-empty = No lines yet.
statement-total = Total: { $total } · sales { $sales } · attainment { $attainment }%
line-commission-marginal = { $id }. { $amount } — { $rate }% commission on { $base } of sales between { $lower } and { $upper }
line-commission-marginal-top = { $id }. { $amount } — { $rate }% commission on { $base } of sales above { $lower }
line-commission-whole = { $id }. { $amount } — { $rate }% commission on all { $base } of sales (bracket from { $lower } reached)
line-accelerator = { $id }. { $amount } — accelerator: { $base } of sales above { $from } ({ $above_attainment }% of target) earn { $multiplier }× the { $rate }% rate, an extra { $extra_rate }%
line-category = { $id }. { $amount } — { $rate }% commission on { $base } of { $category } sales
line-cap = { $id }. { $amount } — cap: commission of { $before } is limited to { $cap }
line-bonus = { $id }. { $amount } — bonus for reaching { $threshold }% of the { $target } target (attainment { $attainment }%)
line-volume-rebate = { $id }. { $amount } — volume rebate: { $rate }% of { $base } of sales, over the { $threshold } threshold
line-growth-rebate = { $id }. { $amount } — growth rebate: { $rate }% of { $base } growth ({ $sales } against { $last_year } a year earlier)
line-adjustment = { $id }. { $amount } — adjustment: { $reason }
line-prize = { $id }. { $amount } — prize for place { $rank } in { $contest }
why-no-line = There is no line { $line }: the statement has { $count } lines. See /statement.
why-detail = Kind { $kind } · base { $base } · rate { $rate }% · bracket { $lower } – { $upper } · plan { $plan }
whatif-header = With { $amount } more: total { $total_before } → { $total_after } ({ $change }).
whatif-line = { $kind ->
        [commission] Commission
        [accelerator] Accelerator
        [category] Category commission
        [cap] Cap
        [bonus] Bonus
        [volume_rebate] Volume rebate
        [growth_rebate] Growth rebate
        [adjustment] Adjustments
        [prize] Prizes
       *[other] { $kind }
    }: { $before } → { $after }
whatif-attainment = Attainment: { $before }% → { $after }%
whatif-rank = Rank: #{ $before } → #{ $after }
whatif-tier = Tier: { $before } → { $after }
feedback-recorded = Feedback { $score }/5 recorded for { $partner }.
adjust-recorded = Adjustment of { $amount } recorded for { $partner } on the { $period } statement.
dispute-opened = Dispute #{ $dispute } about line { $line } is open; a manager will answer.
dispute-new = Dispute #{ $dispute } from { $partner } about line { $line } of { $period }: { $reason } — answer with /answer { $dispute } <text>
dispute-unknown = There is no dispute #{ $dispute }.
dispute-answered = Dispute #{ $dispute } has been answered already.
dispute-answer-sent = Answer to dispute #{ $dispute } sent.
dispute-your-answer = Answer to your dispute #{ $dispute } (line { $line } of { $period }): { $answer }
allocate-failed = The budget cannot be allocated: { $reason }
allocate-done = Allocation #{ $run }: { $budget } split among { $partners } partners. Partners see their share with /funds.
funds-none = No funds have been allocated yet.
funds-share = Your share of allocation #{ $run }: { $amount } of { $budget }.
funds-inputs = Inputs: potential { $potential }, trailing 12-month sales { $trailing }, growth { $growth }; shares { $potential_share } / { $contribution_share } / { $growth_share } weighted { $weights }.
me-growth = Previous period { $previous } ({ $vs_previous }) · same period last year { $last_year } ({ $vs_last_year })
me-coverage = Customers this period: { $customers }
me-feedback = Customer feedback (90 days): { $average }/5 from { $ratings ->
        [one] 1 rating
       *[other] { $ratings } ratings
    }
me-feedback-none = Customer feedback (90 days): none yet
me-attainment = Target attainment: { $attainment }%
me-tier = Tier: { $tier } (trailing 12 months: { $trailing })
me-next-tier = Next tier { $tier }: { $sales } more sales; certifications needed: { $certifications }

## Platform command menus
cmd-start = Join the program with an invite code
cmd-link = Link this account (or get a code for another)
cmd-help = What I can do
cmd-lang = Change language
cmd-report = Report a sale
cmd-sales = Your latest sales
cmd-cancel = Withdraw a pending sale
cmd-rank = This period's ranking
cmd-me = Your scorecard
cmd-invite = Invite a partner
cmd-pending = Sales waiting for approval
cmd-approve = Approve a sale
cmd-reject = Reject a sale
cmd-audit = Recent manager actions
cmd-statement = Your statement
cmd-why = Explain a statement line
cmd-whatif = What one more sale would change
cmd-feedback = Record customer feedback
cmd-adjust = Adjust a statement
cmd-dispute = Contest a statement line
cmd-answer = Answer a dispute
cmd-allocate = Split a fund budget
cmd-funds = Your share of funds

## Telegram
telegram-start-first = I can't message you privately yet: open { $link } and press Start, then ask again.

## Slash command options (Discord)
opt-code = The code you were given
opt-locale = en or zh-CN
opt-amount = Amount, e.g. 12500, 1.2万, 3k
opt-currency = ISO currency code, e.g. USD
opt-customer = Customer name
opt-category = Product category
opt-note = A note
opt-evidence = A photo or file proving the sale
opt-sale = Sale number
opt-partner = Partner name
opt-kind = dealer, agent, wholesaler, retailer or distributor
opt-region = Region
opt-tier = Tier
opt-reason = Reason
opt-period = Period, e.g. 2026-11
opt-line = Statement line number
opt-score = 1 to 5
opt-comment = Comment
opt-dispute = Dispute number
opt-text = Your answer
opt-budget = Budget to split

## Slash command names (Discord); English keeps the typed names
cmdname-start = start
cmdname-link = link
cmdname-help = help
cmdname-lang = lang
cmdname-report = report
cmdname-sales = sales
cmdname-cancel = cancel
cmdname-rank = rank
cmdname-me = me
cmdname-invite = invite
cmdname-pending = pending
cmdname-approve = approve
cmdname-reject = reject
cmdname-audit = audit
cmdname-statement = statement
cmdname-why = why
cmdname-whatif = whatif
cmdname-feedback = feedback
cmdname-adjust = adjust
cmdname-dispute = dispute
cmdname-answer = answer
cmdname-allocate = allocate
cmdname-funds = funds

## Argument names in usage lines (`/report <amount> …`), derived from the command registry.
param-code = code
param-locale = en|zh-CN
param-amount = amount
param-currency = currency
param-customer = customer
param-category = category
param-note = note
param-evidence = evidence
param-sale = sale
param-partner = partner name
param-kind = kind
param-region = region
param-tier = tier
param-reason = reason
param-period = period
param-line = line
param-score = 1-5
param-comment = comment
param-delta = ±amount
param-dispute = dispute
param-text = text
param-budget = budget
opt-delta = Amount to add, or to take off with a leading minus
ask-argument = Reply to this message with the { $param } for:
    { $command }
announcement = { $text }
tier-promoted = 🎉 { $partner } reached { $tier }! Congratulations.
close-reminder-soon = Period { $period } ends on { $ends }. After it ends, close it with: rally close-period { $period }
close-reminder-due = Period { $period } has ended: close it now with: rally close-period { $period }
cmd-bindchat = Make this group a program chat
cmd-unbindchat = Stop posting to this group
cmdname-bindchat = bindchat
cmdname-unbindchat = unbindchat
bindchat-private = /bindchat works in a group or channel: send it there.
bindchat-done = This chat is now a program chat: announcements and recognition are posted here.
bindchat-done-region = This chat is now the program chat for region { $region }.
unbindchat-not-bound = This chat is not a program chat.
unbindchat-done = This chat is no longer a program chat.
cmd-announce = Send an announcement
cmd-schedule = Schedule an announcement
cmd-scheduled = Scheduled announcements
cmd-unschedule = Cancel a scheduled announcement
cmd-broadcasts = Recent announcements and their delivery
cmdname-announce = announce
cmdname-schedule = schedule
cmdname-scheduled = scheduled
cmdname-unschedule = unschedule
cmdname-broadcasts = broadcasts
param-filters = filters
param-when = HH:MM|YYYY-MM-DDTHH:MM|"cron"
param-broadcast = broadcast
opt-filters = Optional: region=, tier=, kind=, platform=telegram|discord, to=chats|members|all
opt-when = HH:MM, YYYY-MM-DDTHH:MM, or a quoted cron expression
opt-broadcast = Broadcast number
error-unknown-filter = Unknown filter “{ $key }”. Use region=, tier=, kind=, platform=telegram|discord or to=chats|members|all before the text.
error-bad-filter = “{ $value }” is not a valid value for { $key }=.
error-bad-when = “{ $text }” is not a time: use HH:MM, YYYY-MM-DDTHH:MM, or a cron expression in quotes such as "0 0 9 * * Mon".
error-time-past = That time has already passed. Pick a time in the future.
error-no-such-time = That time does not exist on the program clock (a daylight-saving change). Pick another.
announce-nobody = Nobody matches: no program chat (/bindchat in a group) and no member for these filters. Nothing was sent.
announce-queued = Announcement #{ $id } is on its way to { $chats } chats and { $members } members. You will get a delivery report.
schedule-done = Announcement #{ $id } is scheduled for { $when }. /scheduled lists what is waiting; /unschedule { $id } cancels it.
scheduled-none = Nothing is scheduled.
scheduled-header = Scheduled announcements ({ $count }):
scheduled-line = #{ $id } next { $when } { $repeat } — { $text }
unschedule-unknown = There is no scheduled announcement #{ $id }.
unschedule-done = Announcement #{ $id } is cancelled.
broadcasts-none = No announcements yet.
broadcasts-header = Latest announcements:
broadcasts-line = #{ $id } { $when } { $status }: sent { $sent }, failed { $failed }, waiting { $pending } — { $text }
broadcast-report = Announcement #{ $id }: sent { $sent }, failed { $failed }{ $refused ->
    [0] {""}
   *[other] {" "}(blocked the bot: { $refused })
}.

## The TV page (GET /tv): an office screen's leaderboard.
tv-heading = Leaderboard
tv-period = Period { $period }
tv-time-left = { $days } d { $hours } h { $minutes } min left
tv-ended = This period has ended
tv-latest = Latest sales
tv-empty = No approved sales yet — the first one takes the lead!
tv-offline = Reconnecting…
tv-unauthorized = This TV link has no valid token. Print a new link with `rally tvlink`.
tv-unknown-contest = There is no contest “{ $contest }”: contests are not available in this version of Rally.
