//! Order rows: what is being bought, and the payment history.
use crate::entities::order;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::{Gateway, ItemKind, OrderInfo, OrderStatus, CURRENCY};
use crate::catalog::Catalog;
use crate::{time, Error, ErrorCode};

/// A plan or pack of the catalog, priced.
pub(crate) struct Item {
    pub kind: ItemKind,
    pub id: String,
    pub amount_fils: i64,
    pub credits: i64,
}

impl Item {
    /// The catalog's plan or pack with this id.
    pub fn resolve(catalog: &Catalog, id: &str) -> Result<Self, Error> {
        if let Some(p) = catalog.plan(id) {
            return Ok(Self {
                kind: ItemKind::Plan,
                id: p.id.clone(),
                amount_fils: p.price_fils,
                credits: p.credits,
            });
        }
        if let Some(p) = catalog.pack(id) {
            return Ok(Self {
                kind: ItemKind::Pack,
                id: p.id.clone(),
                amount_fils: p.price_fils,
                credits: p.credits,
            });
        }
        Err(Error::invalid("item", ErrorCode::Required))
    }
}

pub(crate) async fn create_pending(
    db: &DatabaseConnection,
    account_id: i64,
    item: &Item,
    gateway: Gateway,
    lang: &str,
) -> Result<order::Model, Error> {
    if item.amount_fils <= 0 {
        return Err(Error::Internal(format!("{} has no price", item.id)));
    }
    let now = time::now();
    let id = order::Entity::insert(order::ActiveModel {
        account_id: Set(account_id),
        kind: Set(item.kind),
        item: Set(item.id.clone()),
        amount_fils: Set(item.amount_fils),
        currency: Set(CURRENCY.to_owned()),
        credits: Set(item.credits),
        status: Set(OrderStatus::Pending),
        gateway: Set(gateway),
        lang: Set(lang.to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(db)
    .await?
    .last_insert_id;
    find(db, id).await
}

pub(crate) async fn find<C: ConnectionTrait>(conn: &C, id: i64) -> Result<order::Model, Error> {
    order::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

pub(crate) async fn find_by_invoice(
    db: &DatabaseConnection,
    invoice_id: i64,
) -> Result<Option<order::Model>, Error> {
    Ok(order::Entity::find()
        .filter(order::Column::InvoiceId.eq(invoice_id))
        .one(db)
        .await?)
}

/// Records the MyFatoorah invoice of a pending order.
pub(crate) async fn store_invoice(
    db: &DatabaseConnection,
    order_id: i64,
    invoice_id: i64,
    payment_url: &str,
) -> Result<(), Error> {
    let res = order::Entity::update_many()
        .col_expr(order::Column::InvoiceId, invoice_id.into())
        .col_expr(order::Column::PaymentUrl, payment_url.into())
        .col_expr(order::Column::UpdatedAt, time::now().into())
        .filter(order::Column::Id.eq(order_id))
        .filter(order::Column::Status.eq(OrderStatus::Pending))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Err(Error::Internal(format!(
            "order {order_id} left pending before its invoice was stored"
        )));
    }
    Ok(())
}

/// Moves a pending order to `status` with a note (and the PaymentId of the attempt, when
/// known); false when it was no longer pending.
pub(crate) async fn close_pending<C: ConnectionTrait>(
    conn: &C,
    order_id: i64,
    status: OrderStatus,
    note: &str,
    payment_id: Option<&str>,
) -> Result<bool, Error> {
    let mut update = order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(status))
        .col_expr(order::Column::Note, clip(note, 256).into());
    if let Some(pid) = payment_id {
        update = update.col_expr(order::Column::PaymentId, pid.into());
    }
    let res = update
        .col_expr(order::Column::UpdatedAt, time::now().into())
        .filter(order::Column::Id.eq(order_id))
        .filter(order::Column::Status.eq(OrderStatus::Pending))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// At most `max` characters (column limits), cut on a character boundary.
pub(crate) fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// One account's orders, newest first (the billing page's payment history).
pub async fn list_orders<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
) -> Result<Vec<OrderInfo>, Error> {
    Ok(order::Entity::find()
        .filter(order::Column::AccountId.eq(account_id))
        .order_by_desc(order::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(OrderInfo::from)
        .collect())
}

/// Every order, newest first, one page at a time (admins).
pub async fn list_all_orders(
    db: &DatabaseConnection,
    limit: u64,
    offset: u64,
) -> Result<Vec<OrderInfo>, Error> {
    Ok(order::Entity::find()
        .order_by_desc(order::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(db)
        .await?
        .into_iter()
        .map(OrderInfo::from)
        .collect())
}

/// How many orders there are (for the admin list's paging).
pub async fn count_all_orders(db: &DatabaseConnection) -> Result<u64, Error> {
    Ok(order::Entity::find().count(db).await?)
}

/// One order of an account (e.g. for the test payment page); [`Error::NotFound`] when the
/// order is someone else's.
pub async fn order_for_account<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    order_id: i64,
) -> Result<OrderInfo, Error> {
    let order = find(db, order_id).await?;
    if order.account_id != account_id {
        return Err(Error::NotFound);
    }
    Ok(order.into())
}
