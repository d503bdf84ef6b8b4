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
joined-linked = Your { $other } and { $this } accounts are now one person: notices reach you where you last wrote to me (/notify telegram|discord to choose).
notify-current = Notices go to: { $choice } (auto = where you last wrote to me). Your accounts: { $platforms }. Change with /notify telegram, /notify discord or /notify auto.
notify-set = Done: notices go to your { $platform } account.
notify-auto = Done: notices go where you last wrote to me.
notify-unknown = “{ $platform }” is not a choice: use /notify telegram, /notify discord or /notify auto.
notify-no-account = You have no { $platform } account linked. Send /link here, then /link CODE to the bot on { $platform }.

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
me-training = Certifications: { $certifications } · trainings completed: { $completed }, enrolled: { $upcoming } (/trainings)

## Platform command menus
cmd-start = Join the program with an invite code
cmd-link = Link this account (or get a code for another)
cmd-help = What I can do
cmd-lang = Change language
cmd-notify = Where you get notices
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
cmdname-notify = notify
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
param-platform = telegram|discord|auto
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

## Training
cmd-trainings = Upcoming trainings and yours
cmd-enroll = Enroll in a training
cmd-leave = Leave a training
cmd-checkin = Check in to a session
cmd-rate = Rate a training
cmd-quiz = Answer a training quiz question
cmdname-trainings = trainings
cmdname-enroll = enroll
cmdname-leave = leave
cmdname-checkin = checkin
cmdname-rate = rate
cmdname-quiz = quiz
param-training = training
param-stars = 1-5
param-question = question
param-choice = choice
button-stars = { $stars }★
button-choice = { $n }. { $text }
training-list-head = Trainings:
training-none = No upcoming trainings for you right now.
training-line = • { $id } · { $title } ({ $level }) · { $start } · { $venue } · seats left: { $seats }
training-you-enrolled =   You: enrolled.
training-you-waitlisted =   You: on the waitlist.
training-you-attended =   You: checked in.
training-you-completed =   You: completed.
training-manager-line =   Check-in code { $code } · enrolled { $enrolled }/{ $capacity } · waitlist { $waitlisted } · checked in { $attended }
training-unknown = There is no training “{ $name }”. Trainings: { $list }.
training-started = { $title } has started already: enrolling and leaving are closed.
training-not-eligible = { $title } is for { $who } partners only.
training-already-enrolled = You're already enrolled in { $title }.
training-already-waitlisted = You're already on the waitlist for { $title }.
training-enrolled = You're enrolled in { $title } on { $start } ({ $venue }). Check in there with /checkin and the code you're given.
training-waitlisted = { $title } is full: you're number { $position } on the waitlist and get a seat when someone leaves.
training-left = You left { $title }.
training-not-enrolled = You're not enrolled in { $title }.
training-promoted = A seat opened: you're now enrolled in { $title } on { $start }.
training-checkin-unknown = “{ $code }” is not the check-in code of a session.
training-checkin-early = Check-in for { $title } opens at { $time }.
training-checkin-over = { $title } is over: check-in is closed.
training-checkin-again = You're checked in to { $title } already.
training-checkin-ok = Checked in to { $title }. Enjoy the session!
training-rate-stars = Rate with 1 to 5 stars, not { $stars }.
training-rate-not-attended = Only members who checked in to { $title } can do that.
training-rate-closed = Ratings for { $title } closed a week after the session.
training-rate-again = You've rated { $title } already — thank you.
training-rate-thanks = Thanks for rating { $title }: { $stars }★.
training-reminder = Reminder: { $title } starts in { $left }, on { $start }. { $venue }
training-ask-rating = How was { $title }? Tap the stars, or send /rate { $id } 1-5 and a comment.
training-quiz-question = { $title } quiz, question { $n } of { $total }: { $question }
training-quiz-old = That question is answered already.
training-quiz-choice = Choose an answer from 1 to { $choices }.
training-quiz-not-yet = The quiz for { $title } opens when the session ends.
training-no-quiz = { $title } has no quiz.
training-quiz-passed = Quiz passed: { $score } of { $total } right.
training-quiz-failed = Quiz: { $score } of { $total } right; { $pass } needed. A manager can tell you about the next session.
training-completed = You completed { $title }.
training-certified = Your partner is now certified: { $certification }.
training-summary = { $title }: enrolled { $enrolled }, attended { $attended }, average rating { $rating } ({ $ratings } ratings), quiz passed { $passed } of { $taken }.
training-summary-comment = “{ $comment }”
training-report = { $title } ({ $day }), approved sales { $days } days before and after, per partner: attended ({ $attendees }) { $att_before } → { $att_after }; eligible, did not attend ({ $others }) { $oth_before } → { $oth_after }.
training-report-difference = Difference in differences: { $difference } per partner.
training-report-no-comparison = One of the two groups is empty: there is nothing to compare.
training-report-partial = The “after” window runs until { $until }: these numbers will still change.
training-report-caution = This compares two groups; it does not prove the training caused the difference.
training-report-unknown = There is no training “{ $name }”.
cmd-trainingreport = Sales before and after a training
cmdname-trainingreport = trainingreport
## Contests (issue 10)
cmd-contests = Running and upcoming contests with your place; "past" for ended seasons
cmdname-contests = contests
param-contest = contest
opt-contest = A contest's id or name (leave out for this period's ranking)
param-past = past
opt-past = Write "past" for ended contests and their winners
contest-none = There are no contests in this program.
contest-unknown = There is no contest “{ $text }”. Contests: { $list }
contest-upcoming = { $contest } starts on { $start }. /contests shows what runs now.
contest-board-header = { $contest } — { $metric }, until { $end } ({ $days } days left), { $partners } qualified:
contest-board-final = { $contest } — final standings ({ $partners } qualified):
contest-board-empty = Nobody has qualified yet.
contest-line-money = { $place }. { $partner } — { $value }
contest-line-count = { $place }. { $partner } — { $value } sales
contest-line-customers = { $place }. { $partner } — { $value } new customers
contest-line-growth = { $place }. { $partner } — { $value }
contest-line-attainment = { $place }. { $partner } — { $value } of target
contest-line-nobase = { $place }. { $partner } — { $value } (no sales in the base period)
contest-line-notarget = { $place }. { $partner } — { $value } (no target)
contest-me = You: #{ $place } — { $value }.
contest-gap-money = { $gap } more in sales to pass #{ $place }.
contest-gap-sales = { $gap } more sales to pass #{ $place }.
contest-gap-customers = { $gap } more new customers to pass #{ $place }.
contest-not-qualified = You do not qualify yet: { $needed } more in sales.
contest-no-standing = You have no approved sales in this contest yet (it counts sales from { $start }).
contest-out-of-scope = Your partner is not in this contest's scope, so it is not ranked here.
contest-metric-sales-amount = sales amount
contest-metric-sales-count = number of sales
contest-metric-growth-rate = growth
contest-metric-target-attainment = target attainment
contest-metric-new-customers = new customers
contest-handicap = against each partner's own target
contest-post-header = 🏆 { $contest } — { $days } days left, { $partners } qualified:
contest-final-header = 🏁 { $contest } is over. Winners:
contest-winner = { $place }. { $partner } — { $prize }
contest-chart-subtitle = { $days } days left · { $partners } qualified
contests-header = Contests:
contests-running = { $contest } ({ $id }) — { $metric }, until { $end } ({ $days } days left)
contests-upcoming = { $contest } ({ $id }) — { $metric }, { $start } to { $end }
contests-place = · you: #{ $place } of { $partners }
contests-unqualified = · you: not qualified yet ({ $needed } more in sales)
contests-outside = · not open to your partner
contests-entered = · you are in it
contests-empty = No contest is running or coming up. /contests past shows ended ones.
contests-past-header = Past contests:
contests-past-line = { $contest } ({ $id }, { $start } – { $end }): { $winners }
contests-past-nobody = nobody qualified
contests-past-empty = No contest has ended yet.
## The TV page (GET /tv): an office screen's leaderboard.
tv-heading = Leaderboard
tv-period = Period { $period }
tv-time-left = { $days } d { $hours } h { $minutes } min left
tv-ended = This period has ended
tv-latest = Latest sales
tv-empty = No approved sales yet — the first one takes the lead!
tv-offline = Reconnecting…
tv-unauthorized = This TV link has no valid token. Print a new link with `rally tvlink`.
tv-unknown-contest = There is no contest “{ $contest }”. `rally contests list` shows the contests.
## Alerts: the weekly digest and nudges (issue 12)
cmd-mute = Turn off a kind of notice: nudges (the weekly "almost there" messages)
cmdname-mute = mute
cmd-unmute = Turn a kind of notice back on: nudges
cmdname-unmute = unmute
param-notices = nudges
mute-unknown = “{ $what }” cannot be muted: choose { $choices }.
nudges-muted = Nudges are off. /unmute nudges turns them back on.
nudges-unmuted = Nudges are on: at most one a week, when you are close to a tier or bonus.
nudge-title = You are close:
nudge-mute-hint = (At most one of these a week. /mute nudges turns them off.)
alert-near-tier = { $who ->
    [manager] • { $partner }: { $gap } more to { $tier } (trailing 12 months)
   *[partner] { $gap } more in sales (trailing 12 months) and you reach { $tier }.
}
alert-near-bonus = { $who ->
    [manager] • { $partner }: { $gap } more to the { $attainment } % bonus this period
   *[partner] { $gap } more this period to the { $attainment } % bonus.
}
alert-near-bonus-sales = { $who ->
    [manager] • { $partner }: { $gap } more to the { $attainment } % bonus this period (about { $sales ->
        [one] 1 sale
       *[other] { $sales } sales
    })
   *[partner] { $sales ->
        [one] 1 sale
       *[other] { $sales } sales
    } at your average ({ $gap }) to the { $attainment } % bonus this period.
}
digest-title = Weekly digest (weeks up to { $week })
digest-quiet = Nothing needs your attention this week.
digest-slumps = Sales down { $percent } % or more ({ $count }): last { $recent } weeks against each partner's { $baseline } weeks before
digest-slump = • { $partner }: { $recent } a week, was { $baseline } (−{ $drop } %)
digest-near = Close to a tier or bonus, within { $percent } % ({ $count }):
digest-pending = Sales waiting over 48 hours for approval ({ $count }): /pending
digest-pending-sale = • #{ $sale } { $partner } { $amount }, reported { $reported }
digest-disputes = Unanswered disputes ({ $count }): /answer
digest-dispute = • #{ $dispute } { $partner }, { $period } line { $line }, opened { $opened }
digest-more = … and { $count } more

# --- community: deals ---
cmd-deal = Register a customer so it is protected for your partner
cmd-deals = Your registered customers and when they expire
cmd-conflicts = Open channel conflicts
cmd-resolve = Decide a channel conflict: award it or split the sale
cmdname-deal = deal
cmdname-deals = deals
cmdname-conflicts = conflicts
cmdname-resolve = resolve
param-expected = expected amount
param-conflict = conflict
param-decision = partner|split <percent>
opt-expected = Expected amount of the deal, e.g. 80000
opt-conflict = Conflict number
opt-decision = The partner to award it to, or "split 60" (percent for the reporting partner)
deal-registered = { $customer } is registered for your partner and protected until { $until }.
deal-extended = { $customer } was already registered for your partner: protection extended until { $until }.
deal-conflict = { $customer } is protected by another partner's registration until { $until }. A manager will decide; you will hear the outcome.
deal-bad-customer = A customer name needs at least one letter or digit.
deals-none = You have no registered customers. Register one with /deal ACME 80000 -- note.
deals-header = { $count ->
        [one] 1 registered customer:
       *[other] { $count } registered customers:
    }
deals-line = { $customer } — protected until { $until } ({ $days } days left) · expected { $expected }
deal-reminder = Your registration of { $customer } expires on { $until }. Send /deal { $customer } to renew it.
report-conflict = { $customer } is protected by another partner's registration until { $until }: sale #{ $sale } waits until a manager decides who it counts for.
conflict-new = ⚔️ Channel conflict #{ $conflict } over { $customer }:
conflict-line = Conflict #{ $conflict } over { $customer }:
conflict-holder = · { $partner } registered “{ $registered }” on { $since }, protected until { $until } · expected { $expected } · note: { $note }
conflict-claim-sale = · { $partner } reported sale #{ $sale }: { $amount } on { $date }
conflict-claim-deal = · { $partner } wants to register it · expected { $expected } · note: { $note }
button-award = Award to { $partner }
button-split-even = Split 50/50
conflicts-none = No channel conflict is open.
conflicts-header = { $count ->
        [one] 1 channel conflict is
       *[other] { $count } channel conflicts are
    } open:
conflict-not-found = There is no conflict #{ $conflict }. /conflicts lists the open ones.
conflict-closed = Conflict #{ $conflict } is already closed ({ $status }); nothing changed.
conflict-bad-split = A split gives the reporting partner a whole percent from 1 to 99, e.g. /resolve { $conflict } split 60.
conflict-no-sale = Conflict #{ $conflict } is between two registrations and has no sale to split: award it to one partner.
conflict-not-a-side = “{ $partner }” is not a side of conflict #{ $conflict }: award it to { $holder } or { $claimant }.
conflict-awarded = Conflict #{ $conflict } over { $customer } is decided: awarded to { $partner }.
conflict-sale-credited = Sale #{ $sale } ({ $amount }) is approved and credited to { $partner }.
conflict-split-done = Conflict #{ $conflict } over { $customer } is decided: sale #{ $sale } is approved and split — { $claimant } { $percent }% ({ $claimant_amount }), { $holder } { $rest }% ({ $holder_amount }).
your-conflict-won-sale = A manager decided the conflict over { $customer } for you: your sale #{ $sale } ({ $amount }) is approved and credited to you, and the customer is now registered for your partner.
your-conflict-lost-sale = A manager decided the conflict over { $customer }: it stays with the partner who registered it, and your sale #{ $sale } is credited to that partner.
your-conflict-split = A manager split your sale #{ $sale } ({ $customer }): { $percent }% is approved and credited to you ({ $amount }).
your-conflict-won-deal = A manager decided the conflict over { $customer } for you: it is registered for your partner until { $until }.
your-conflict-lost-deal = A manager decided the conflict over { $customer }: it stays with the partner who registered it first.
your-deal-credited = A manager decided a conflict over your registered customer { $customer }: a sale of { $amount } is credited to you.
your-deal-split = A manager decided a conflict over your registered customer { $customer }: { $percent }% of a sale is credited to you ({ $amount }).
your-deal-released = A manager decided a conflict over { $customer }: it is no longer registered for your partner.
sale-in-conflict = Sale #{ $sale } waits for channel conflict #{ $conflict }: decide it with /resolve { $conflict } <partner> or /resolve { $conflict } split <percent>.
pending-line-conflict = #{ $sale } { $partner } · { $amount } · { $customer } — channel conflict #{ $conflict }, decide with /resolve

# --- community: points, badges, kudos (issue 11) ---
cmd-kudos = Thank a member or partner (alone: kudos left today, this week's top)
cmdname-kudos = kudos
param-member = member
opt-member = A @username, a mention or a partner name (leave out when replying to their message)
me-points = Points: { $points } · badges: { $badges } (/rank points)
points-rank-empty = No points yet — approved sales, kudos, trainings and contests earn them.
points-rank-header = Points ranking ({ $partners } partners)
points-rank-line = { $place }. { $partner } — { $points } pts
points-rank-me = You: #{ $place } with { $points } pts.
points-rank-me-none = You have no points yet.
badge-earned = 🏅 { $partner } earned the badge “{ $badge }”!
badges-earned-many = 🏅 { $count } new badges earned with the latest imported sales. See yours with /me, the points board with /rank points.
kudos-post = 👏 { $from } thanks { $to }: { $reason }
kudos-sent = Kudos sent to { $to }. You have { $left } left today.
kudos-status = You have { $left } of { $daily } kudos left today. Give one with /kudos @member reason (or reply to their message with /kudos reason).
kudos-week-header = This week's most thanked:
kudos-week-line = { $place }. { $partner } — { $count } kudos
kudos-week-none = No kudos this week yet.
kudos-disabled = Kudos are turned off in this program.
kudos-no-reason = Say why: /kudos @member reason.
kudos-reason-too-long = The reason is too long (at most { $max } characters).
kudos-unknown = I don't know “{ $who }”: name a member by @username or mention, reply to their message, or give a partner's name.
kudos-unknown-author = The author of that message is not a member of a partner in this program.
kudos-self = You cannot give kudos to yourself.
kudos-own-partner = Kudos are for members of other partners, not your own.
kudos-over-allowance = You have given all { $daily } kudos for today; more tomorrow.
kudos-cooldown = You thanked them a moment ago; try again in { $minutes } min.

# --- community: stories (issue 11) ---
cmd-story = Share a success story (with a photo: caption it /story …)
cmdname-story = story
cmd-stories = Latest stories and this week's most reacted
cmdname-stories = stories
cmd-react = React to a story (what its buttons do)
cmdname-react = react
cmd-feature = Feature a story: re-posted, with points for its partner
cmdname-feature = feature
cmd-hide = Hide a story from every list (moderation)
cmdname-hide = hide
param-photo = photo
opt-photo = A picture for the story
param-story = story
opt-story = The story's number
param-reaction = reaction
opt-reaction = clap, fire or idea
story-button = { $emoji } { $count }
story-post = 🌟 Story #{ $story } from { $partner } ({ $author }):
story-featured = ⭐ Featured story #{ $story } from { $partner } ({ $author }):
story-of-week = 🏆 Story of the week: #{ $story } from { $partner } ({ $author }):
story-text = { $text }
story-shared = Story #{ $story } shared in { $chats } program chats. Thank you!
story-empty = Write your story after the command: /story we won a 3-year contract with …
story-too-long = That story is too long: at most { $max } characters, so it fits every chat.
story-unknown = There is no story #{ $story }.
story-reacted = Reaction added to story #{ $story }: { $counts }
story-unreacted = Reaction taken back on story #{ $story }: { $counts }
stories-none = No stories yet — share yours with /story.
stories-header = Latest stories:
stories-line = #{ $story } { $featured }{ $partner }: { $text }
stories-week = This week's most reacted ({ $reactions } reactions):
stories-week-none = No reactions this week yet.
story-already-featured = Story #{ $story } is featured already.
story-featured-done = Story #{ $story } featured and re-posted; its partner gets { $points } points.
story-hidden = Story #{ $story } is hidden from every list (nothing was posted).
