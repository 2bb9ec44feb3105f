//! Payment orders: one row per plan or pack a customer chooses, from pending to paid
//! (or failed, canceled, mismatch). Money in integer fils.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    AccountId,
    Kind,
    Item,
    AmountFils,
    Currency,
    Credits,
    Status,
    Gateway,
    Lang,
    InvoiceId,
    PaymentUrl,
    PaymentId,
    Note,
    CreatedAt,
    UpdatedAt,
    PaidAt,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Orders::Table)
                .col(
                    ColumnDef::new(Orders::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(Orders::AccountId).big_integer().not_null())
                .col(ColumnDef::new(Orders::Kind).string_len(8).not_null())
                .col(ColumnDef::new(Orders::Item).string_len(32).not_null())
                .col(ColumnDef::new(Orders::AmountFils).big_integer().not_null())
                .col(ColumnDef::new(Orders::Currency).string_len(3).not_null())
                .col(ColumnDef::new(Orders::Credits).big_integer().not_null())
                .col(ColumnDef::new(Orders::Status).string_len(16).not_null())
                .col(ColumnDef::new(Orders::Gateway).string_len(16).not_null())
                .col(ColumnDef::new(Orders::Lang).string_len(2).not_null())
                // MyFatoorah's InvoiceId: one invoice belongs to one order, which is how a
                // webhook or a paymentId finds its order.
                .col(
                    ColumnDef::new(Orders::InvoiceId)
                        .big_integer()
                        .null()
                        .unique_key(),
                )
                .col(ColumnDef::new(Orders::PaymentUrl).string_len(1024).null())
                .col(ColumnDef::new(Orders::PaymentId).string_len(64).null())
                .col(ColumnDef::new(Orders::Note).string_len(256).null())
                .col(ColumnDef::new(Orders::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(Orders::UpdatedAt).big_integer().not_null())
                .col(ColumnDef::new(Orders::PaidAt).big_integer().null())
                // Orders are financial records: an account with orders is not deleted.
                .foreign_key(
                    ForeignKey::create()
                        .from(Orders::Table, Orders::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_orders_account")
                .table(Orders::Table)
                .col(Orders::AccountId)
                .col(Orders::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_orders_status")
                .table(Orders::Table)
                .col(Orders::Status)
                .col(Orders::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Orders::Table).to_owned())
            .await
    }
}
