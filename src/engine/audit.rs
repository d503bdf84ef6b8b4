//! What the audit log records: one variant per kind of change. The stored text (`as_str`) is
//! the database and `/audit` representation, so it must never change for an existing variant.

use std::fmt;

use super::sale::SaleStatus;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// A member was made a program admin from the config's admin list.
    MemberAdmin,
    /// A member joined through an invite.
    MemberJoin,
    PartnerCreate,
    InviteCreate,
    /// A sale was decided; the status it moved to.
    Sale(SaleStatus),
    SalesImport,
    TargetSet,
    TierChange,
    PeriodClose,
    StatementAdjust,
    FeedbackAdd,
    DisputeAnswer,
    FundsAllocate,
    /// A group chat or channel was bound as a program chat (`/bindchat`), or unbound.
    ChatBind,
    ChatUnbind,
    /// A training was added from the command line, or a member completed one.
    TrainingAdd,
    TrainingComplete,
    // --- community: deals ---
    /// A partner registered a customer (`/deal`), or renewed its registration.
    DealRegister,
    DealExtend,
    /// A claim on a customer another partner holds became a conflict; a manager decided it;
    /// the reporter cancelled the sale it was about.
    ConflictOpen,
    ConflictResolve,
    ConflictWithdraw,
    // --- community: stories (issue 11) ---
    /// A manager featured a story, or hid one (moderation).
    StoryFeature,
    StoryHide,
}

impl AuditAction {
    /// Every action, for round-trip checks.
    pub const ALL: [AuditAction; 27] = [
        AuditAction::MemberAdmin,
        AuditAction::MemberJoin,
        AuditAction::PartnerCreate,
        AuditAction::InviteCreate,
        AuditAction::Sale(SaleStatus::Pending),
        AuditAction::Sale(SaleStatus::Approved),
        AuditAction::Sale(SaleStatus::Rejected),
        AuditAction::Sale(SaleStatus::Cancelled),
        AuditAction::SalesImport,
        AuditAction::TargetSet,
        AuditAction::TierChange,
        AuditAction::PeriodClose,
        AuditAction::StatementAdjust,
        AuditAction::FeedbackAdd,
        AuditAction::DisputeAnswer,
        AuditAction::FundsAllocate,
        AuditAction::ChatBind,
        AuditAction::ChatUnbind,
        AuditAction::TrainingAdd,
        AuditAction::TrainingComplete,
        // --- community: deals ---
        AuditAction::DealRegister,
        AuditAction::DealExtend,
        AuditAction::ConflictOpen,
        AuditAction::ConflictResolve,
        AuditAction::ConflictWithdraw,
        AuditAction::StoryFeature,
        AuditAction::StoryHide,
    ];

    /// The stored text, e.g. `partner.create`, `sale.approved`.
    pub fn as_str(&self) -> &'static str {
        match self {
            AuditAction::MemberAdmin => "member.admin",
            AuditAction::MemberJoin => "member.join",
            AuditAction::PartnerCreate => "partner.create",
            AuditAction::InviteCreate => "invite.create",
            AuditAction::Sale(SaleStatus::Pending) => "sale.pending",
            AuditAction::Sale(SaleStatus::Approved) => "sale.approved",
            AuditAction::Sale(SaleStatus::Rejected) => "sale.rejected",
            AuditAction::Sale(SaleStatus::Cancelled) => "sale.cancelled",
            AuditAction::SalesImport => "sales.import",
            AuditAction::TargetSet => "target.set",
            AuditAction::TierChange => "tier.change",
            AuditAction::PeriodClose => "period.close",
            AuditAction::StatementAdjust => "statement.adjust",
            AuditAction::FeedbackAdd => "feedback.add",
            AuditAction::DisputeAnswer => "dispute.answer",
            AuditAction::FundsAllocate => "funds.allocate",
            AuditAction::ChatBind => "chat.bind",
            AuditAction::ChatUnbind => "chat.unbind",
            AuditAction::TrainingAdd => "training.add",
            AuditAction::TrainingComplete => "training.complete",
            // --- community: deals ---
            AuditAction::DealRegister => "deal.register",
            AuditAction::DealExtend => "deal.extend",
            AuditAction::ConflictOpen => "conflict.open",
            AuditAction::ConflictResolve => "conflict.resolve",
            AuditAction::ConflictWithdraw => "conflict.withdraw",
            AuditAction::StoryFeature => "story.feature",
            AuditAction::StoryHide => "story.hide",
        }
    }

    /// The action stored as `text`, if it is one.
    pub fn parse(text: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_round_trips_and_is_unique() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
        }
        let mut texts: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        texts.sort_unstable();
        texts.dedup();
        assert_eq!(texts.len(), AuditAction::ALL.len());
        assert_eq!(AuditAction::parse("partner.created"), None);
    }
}
