//! The `orders` table (migration `m20261126_000003_payments`).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub kind: crate::payments::ItemKind,
    /// The catalog id of the plan or pack.
    pub item: String,
    pub amount_fils: i64,
    pub currency: String,
    /// Credits the order adds when paid (copied from the catalog at checkout, so a later
    /// catalog change does not alter what was bought).
    pub credits: i64,
    pub status: crate::payments::OrderStatus,
    pub gateway: crate::payments::Gateway,
    pub lang: String,
    pub invoice_id: Option<i64>,
    pub payment_url: Option<String>,
    /// The PaymentId of the transaction that paid (or last failed) the order.
    pub payment_id: Option<String>,
    /// Why the order failed or was flagged, or who marked it paid.
    pub note: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub paid_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
