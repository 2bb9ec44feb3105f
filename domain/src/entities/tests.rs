//! Enum columns are read strictly: a value the code does not know (written by hand, by a
//! newer version, by a bad migration) is an error when read, never a silent default. Each
//! test writes such a value with raw SQL inside a transaction, reads it back through the
//! domain in that transaction, and rolls back (the PostgreSQL database is shared by tests
//! running at the same time, which must never see the value).
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend};

use crate::testing::{each_db, new_account};
use crate::{accounts, catalog, notify, payments, Error, Services};

/// Runs one raw statement; only integers are formatted into it.
async fn sql<C: ConnectionTrait>(db: &C, statement: &str) {
    db.execute_unprepared(statement)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
}

fn is_unknown_value<T: std::fmt::Debug>(res: Result<T, Error>) -> bool {
    matches!(&res, Err(Error::Db(e)) if e.to_string().contains("unexpected value"))
}

async fn begin(svc: &Services) -> DatabaseTransaction {
    crate::db::begin_write(&svc.db).await.expect("begin")
}

#[tokio::test]
async fn an_unknown_role_is_an_error_not_a_user() {
    each_db(|svc| async move {
        let a = new_account(&svc).await;
        let txn = begin(&svc).await;
        assert_eq!(
            accounts::find(&txn, a.id).await.unwrap().role,
            accounts::Role::User
        );
        let update = format!("UPDATE accounts SET role = 'superuser' WHERE id = {}", a.id);
        sql(&txn, &update).await;
        assert!(is_unknown_value(accounts::find(&txn, a.id).await));
        txn.rollback().await.unwrap();
    })
    .await;
}

async fn order_with(column: &'static str, value: &'static str) {
    each_db(|svc| async move {
        let a = new_account(&svc).await;
        let order = payments::checkout(&svc, &a, "basic", "en")
            .await
            .expect("checkout")
            .order_id;
        let txn = begin(&svc).await;
        assert_eq!(payments::list_orders(&txn, a.id).await.unwrap().len(), 1);
        let update = format!("UPDATE orders SET {column} = '{value}' WHERE id = {order}");
        sql(&txn, &update).await;
        assert!(is_unknown_value(payments::list_orders(&txn, a.id).await));
        assert!(is_unknown_value(
            payments::order_for_account(&txn, a.id, order).await
        ));
        txn.rollback().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn an_unknown_order_status_is_an_error_not_pending() {
    order_with("status", "refunded").await;
}

#[tokio::test]
async fn an_unknown_order_kind_is_an_error_not_a_pack() {
    order_with("kind", "gift").await;
}

#[tokio::test]
async fn an_unknown_payment_gateway_is_an_error_not_myfatoorah() {
    order_with("gateway", "stripe").await;
}

#[tokio::test]
async fn an_unknown_outbox_status_is_an_error_not_pending() {
    each_db(|svc| async move {
        // Registration queues the welcome message; expansion writes its outbox row.
        let a = new_account(&svc).await;
        notify::expand::expand(&svc, 1000).await.unwrap();
        let txn = begin(&svc).await;
        let rows = notify::recent(&txn, 1000).await.unwrap();
        assert!(rows.iter().any(|r| r.account_id == Some(a.id)));
        let update = format!(
            "UPDATE outbox SET status = 'queued' WHERE account_id = {}",
            a.id
        );
        sql(&txn, &update).await;
        assert!(is_unknown_value(notify::recent(&txn, 1000).await));
        txn.rollback().await.unwrap();
    })
    .await;
}

/// The table's CHECK constraint already refuses other kinds; the test lifts it (inside the
/// transaction on PostgreSQL; on SQLite, whose database is this test's own file, for the
/// connection) so that the read side is proven strict on its own.
#[tokio::test]
async fn an_unknown_model_kind_is_an_error_not_local() {
    each_db(|svc| async move {
        let txn = begin(&svc).await;
        if txn.get_database_backend() == DbBackend::Postgres {
            let lift = "ALTER TABLE catalog_models DROP CONSTRAINT catalog_models_kind_check";
            sql(&txn, lift).await;
        } else {
            sql(&txn, "PRAGMA ignore_check_constraints = ON").await;
        }
        sql(
            &txn,
            "INSERT INTO catalog_models (id, position, kind, embedding) \
             VALUES ('strict-kind-test', 999, 'edge', FALSE)",
        )
        .await;
        assert!(is_unknown_value(catalog::Catalog::load(&txn).await));
        txn.rollback().await.unwrap();
        assert!(catalog::Catalog::load(&svc.db).await.is_ok());
    })
    .await;
}

/// The pages name orders and messages with `as_str`; that name is the stored value.
#[test]
fn the_names_the_pages_show_are_the_stored_values() {
    use sea_orm::{ActiveEnum, Iterable};
    for v in payments::ItemKind::iter() {
        assert_eq!(v.as_str(), v.to_value());
    }
    for v in payments::OrderStatus::iter() {
        assert_eq!(v.as_str(), v.to_value());
    }
    for v in notify::Status::iter() {
        assert_eq!(v.as_str(), v.to_value());
    }
}
