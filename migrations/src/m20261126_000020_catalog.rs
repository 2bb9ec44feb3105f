//! The product catalog in the database, seeded from `catalog/catalog.toml` (PRODUCT.md: "they
//! live in one catalog, seeded into the database, editable by an admin").
//!
//! - `catalog_plans`: price, credits, requests per minute, key limit, priority (queue order
//!   and which lower plans' models are included) and period of each plan.
//! - `catalog_plan_models`: the models each plan lists (a model is included in the plans of
//!   higher priority too; that rule is code, `domain::models`).
//! - `catalog_packs`: top-up packs, credits and price.
//! - `catalog_models`: every servable model: local or cloud, its own multiplier (NULL: the
//!   kind's default), its cloud fallback, chat or embedding.
//! - `catalog_denied_models`: the permanent deny list. `domain` also keeps the file's list
//!   in force whatever this table says (an admin can add to it, not take away).
//! - `catalog_values`: the scalar numbers, one row each, `name` → a TOML literal:
//!   `welcome_credits` and every key of the file's `[gateway]` section as `gateway.<key>`
//!   (cloud cap, warning thresholds, queue depth, default multipliers …).
//!
//! Every list table has a `position`, the order of the file, which is the order pages show.
//!
//! File-only (not here): the WhatsApp `[[templates]]` and `[messages]`. They are words, not
//! numbers, and each template must match the text approved at Meta under its `meta_name`,
//! so they change with a deploy, not by an edit in the database.
//!
//! The seed is frozen: `seeds/catalog_20261126.toml` is `catalog/catalog.toml` as it was
//! when this migration landed, so the migration means the same forever (it read the live
//! file before, so its result changed whenever the file did). Later changes of the file
//! reach a database through `resayil catalog sync` (`domain::catalog::sync`), or through a
//! new migration when a column is added.
use sea_orm_migration::prelude::*;
use serde::Deserialize;

const CATALOG: &str = include_str!("seeds/catalog_20261126.toml");

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The parts of `catalog.toml` this migration seeds. Its own types, not `domain`'s (which
/// depends on this crate); a field the file lacks is an error here, not a silent default.
#[derive(Deserialize)]
struct File {
    welcome_credits: i64,
    denied_models: Vec<String>,
    plans: Vec<FilePlan>,
    packs: Vec<FilePack>,
    models: Vec<FileModel>,
    #[serde(default)]
    gateway: toml::Table,
}

#[derive(Deserialize)]
struct FilePlan {
    id: String,
    price_fils: i64,
    credits: i64,
    requests_per_minute: i64,
    max_keys: i64,
    priority: i64,
    period_days: i64,
    models: Vec<String>,
}

#[derive(Deserialize)]
struct FilePack {
    id: String,
    credits: i64,
    price_fils: i64,
}

#[derive(Deserialize)]
struct FileModel {
    id: String,
    kind: String,
    multiplier: Option<f64>,
    cloud_fallback: Option<String>,
    #[serde(default)]
    embedding: bool,
}

#[derive(DeriveIden)]
enum CatalogPlans {
    Table,
    Id,
    Position,
    PriceFils,
    Credits,
    RequestsPerMinute,
    MaxKeys,
    Priority,
    PeriodDays,
}

#[derive(DeriveIden)]
enum CatalogPlanModels {
    Table,
    PlanId,
    Model,
    Position,
}

#[derive(DeriveIden)]
enum CatalogPacks {
    Table,
    Id,
    Position,
    Credits,
    PriceFils,
}

#[derive(DeriveIden)]
enum CatalogModels {
    Table,
    Id,
    Position,
    Kind,
    Multiplier,
    CloudFallback,
    Embedding,
}

#[derive(DeriveIden)]
enum CatalogDeniedModels {
    Table,
    Model,
    Position,
}

#[derive(DeriveIden)]
enum CatalogValues {
    Table,
    Name,
    Value,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// Tables and rows together or not at all, on SQLite as on PostgreSQL.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let file: File = toml::from_str(CATALOG)
            .map_err(|e| DbErr::Migration(format!("catalog/catalog.toml: {e}")))?;
        create_tables(m).await?;
        seed(m, &file).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Children before the tables they reference.
        for table in [
            CatalogValues::Table.into_iden(),
            CatalogDeniedModels::Table.into_iden(),
            CatalogPlanModels::Table.into_iden(),
            CatalogPacks::Table.into_iden(),
            CatalogPlans::Table.into_iden(),
            CatalogModels::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

fn id_col<T: IntoIden>(name: T, len: u32) -> ColumnDef {
    ColumnDef::new(name)
        .string_len(len)
        .not_null()
        .primary_key()
        .to_owned()
}

fn number<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().to_owned()
}

async fn create_tables(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table(CatalogModels::Table)
            .col(id_col(CatalogModels::Id, 128))
            .col(number(CatalogModels::Position))
            .col(
                ColumnDef::new(CatalogModels::Kind)
                    .string_len(8)
                    .not_null()
                    .check(Expr::col(CatalogModels::Kind).is_in(["local", "cloud"])),
            )
            .col(ColumnDef::new(CatalogModels::Multiplier).double().null())
            .col(
                ColumnDef::new(CatalogModels::CloudFallback)
                    .string_len(128)
                    .null(),
            )
            .col(
                ColumnDef::new(CatalogModels::Embedding)
                    .boolean()
                    .not_null(),
            )
            // A fallback is a model of the catalog; removing it ends the failover.
            .foreign_key(
                ForeignKey::create()
                    .from(CatalogModels::Table, CatalogModels::CloudFallback)
                    .to(CatalogModels::Table, CatalogModels::Id)
                    .on_update(ForeignKeyAction::Cascade)
                    .on_delete(ForeignKeyAction::SetNull),
            )
            .to_owned(),
    )
    .await?;
    m.create_table(
        Table::create()
            .table(CatalogPlans::Table)
            .col(id_col(CatalogPlans::Id, 32))
            .col(number(CatalogPlans::Position))
            .col(number(CatalogPlans::PriceFils))
            .col(number(CatalogPlans::Credits))
            .col(number(CatalogPlans::RequestsPerMinute))
            .col(number(CatalogPlans::MaxKeys))
            .col(number(CatalogPlans::Priority))
            .col(number(CatalogPlans::PeriodDays))
            .to_owned(),
    )
    .await?;
    m.create_table(
        Table::create()
            .table(CatalogPlanModels::Table)
            .col(
                ColumnDef::new(CatalogPlanModels::PlanId)
                    .string_len(32)
                    .not_null(),
            )
            .col(
                ColumnDef::new(CatalogPlanModels::Model)
                    .string_len(128)
                    .not_null(),
            )
            .col(number(CatalogPlanModels::Position))
            .primary_key(
                Index::create()
                    .col(CatalogPlanModels::PlanId)
                    .col(CatalogPlanModels::Model),
            )
            .foreign_key(
                ForeignKey::create()
                    .from(CatalogPlanModels::Table, CatalogPlanModels::PlanId)
                    .to(CatalogPlans::Table, CatalogPlans::Id)
                    .on_update(ForeignKeyAction::Cascade)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            // A plan lists only models the catalog knows how to serve and bill.
            .foreign_key(
                ForeignKey::create()
                    .from(CatalogPlanModels::Table, CatalogPlanModels::Model)
                    .to(CatalogModels::Table, CatalogModels::Id)
                    .on_update(ForeignKeyAction::Cascade)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .to_owned(),
    )
    .await?;
    m.create_table(
        Table::create()
            .table(CatalogPacks::Table)
            .col(id_col(CatalogPacks::Id, 32))
            .col(number(CatalogPacks::Position))
            .col(number(CatalogPacks::Credits))
            .col(number(CatalogPacks::PriceFils))
            .to_owned(),
    )
    .await?;
    // Not tied to catalog_models: a denied model is usually one the catalog never lists.
    m.create_table(
        Table::create()
            .table(CatalogDeniedModels::Table)
            .col(id_col(CatalogDeniedModels::Model, 128))
            .col(number(CatalogDeniedModels::Position))
            .to_owned(),
    )
    .await?;
    m.create_table(
        Table::create()
            .table(CatalogValues::Table)
            .col(id_col(CatalogValues::Name, 64))
            .col(ColumnDef::new(CatalogValues::Value).text().not_null())
            .to_owned(),
    )
    .await
}

async fn seed(m: &SchemaManager<'_>, file: &File) -> Result<(), DbErr> {
    // All models in one statement: a fallback may name a model further down the file, and
    // both databases check foreign keys at the end of a statement.
    insert(
        m,
        CatalogModels::Table,
        [
            CatalogModels::Id,
            CatalogModels::Position,
            CatalogModels::Kind,
            CatalogModels::Multiplier,
            CatalogModels::CloudFallback,
            CatalogModels::Embedding,
        ],
        file.models
            .iter()
            .zip(0_i64..)
            .map(|(model, position)| {
                vec![
                    model.id.clone().into(),
                    position.into(),
                    model.kind.clone().into(),
                    model.multiplier.into(),
                    model.cloud_fallback.clone().into(),
                    model.embedding.into(),
                ]
            })
            .collect(),
    )
    .await?;
    insert(
        m,
        CatalogPlans::Table,
        [
            CatalogPlans::Id,
            CatalogPlans::Position,
            CatalogPlans::PriceFils,
            CatalogPlans::Credits,
            CatalogPlans::RequestsPerMinute,
            CatalogPlans::MaxKeys,
            CatalogPlans::Priority,
            CatalogPlans::PeriodDays,
        ],
        file.plans
            .iter()
            .zip(0_i64..)
            .map(|(plan, position)| {
                vec![
                    plan.id.clone().into(),
                    position.into(),
                    plan.price_fils.into(),
                    plan.credits.into(),
                    plan.requests_per_minute.into(),
                    plan.max_keys.into(),
                    plan.priority.into(),
                    plan.period_days.into(),
                ]
            })
            .collect(),
    )
    .await?;
    insert(
        m,
        CatalogPlanModels::Table,
        [
            CatalogPlanModels::PlanId,
            CatalogPlanModels::Model,
            CatalogPlanModels::Position,
        ],
        file.plans
            .iter()
            .flat_map(|plan| {
                plan.models.iter().zip(0_i64..).map(|(model, position)| {
                    vec![
                        plan.id.clone().into(),
                        model.clone().into(),
                        position.into(),
                    ]
                })
            })
            .collect(),
    )
    .await?;
    insert(
        m,
        CatalogPacks::Table,
        [
            CatalogPacks::Id,
            CatalogPacks::Position,
            CatalogPacks::Credits,
            CatalogPacks::PriceFils,
        ],
        file.packs
            .iter()
            .zip(0_i64..)
            .map(|(pack, position)| {
                vec![
                    pack.id.clone().into(),
                    position.into(),
                    pack.credits.into(),
                    pack.price_fils.into(),
                ]
            })
            .collect(),
    )
    .await?;
    insert(
        m,
        CatalogDeniedModels::Table,
        [CatalogDeniedModels::Model, CatalogDeniedModels::Position],
        file.denied_models
            .iter()
            .zip(0_i64..)
            .map(|(model, position)| vec![model.clone().into(), position.into()])
            .collect(),
    )
    .await?;
    insert(
        m,
        CatalogValues::Table,
        [CatalogValues::Name, CatalogValues::Value],
        scalar_values(file)
            .into_iter()
            .map(|(name, value)| vec![name.into(), value.into()])
            .collect(),
    )
    .await
}

/// `welcome_credits` and `gateway.<key>` for each key of `[gateway]`, as TOML literals.
fn scalar_values(file: &File) -> Vec<(String, String)> {
    let mut values = vec![(
        "welcome_credits".to_owned(),
        file.welcome_credits.to_string(),
    )];
    values.extend(
        file.gateway
            .iter()
            .map(|(key, value)| (format!("gateway.{key}"), value.to_string())),
    );
    values
}

/// One INSERT of all `rows` (none: nothing to do). The rows are collected by the caller:
/// an iterator of borrowing closures held across the `await` would not be `Send`.
async fn insert<T, C>(
    m: &SchemaManager<'_>,
    table: T,
    columns: impl IntoIterator<Item = C>,
    rows: Vec<Vec<Expr>>,
) -> Result<(), DbErr>
where
    T: IntoIden,
    C: IntoIden,
{
    if rows.is_empty() {
        return Ok(());
    }
    let mut stmt = Query::insert();
    stmt.into_table(table).columns(columns);
    for row in rows {
        stmt.values(row)
            .map_err(|e| DbErr::Migration(format!("catalog seed: {e}")))?;
    }
    m.execute(stmt).await
}
