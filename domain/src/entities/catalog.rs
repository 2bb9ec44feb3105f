//! The catalog tables (migration `m20261126_000020_catalog`), one sea-orm model each.
//! Numbers are `BIGINT` on both databases; [`crate::catalog`] narrows them to the catalog's types.

pub mod plan {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "catalog_plans")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The plan's place in the file (and on the pricing pages).
        pub position: i64,
        pub price_fils: i64,
        pub credits: i64,
        pub requests_per_minute: i64,
        pub max_keys: i64,
        pub priority: i64,
        pub period_days: i64,
        /// NULL: the gateway's default.
        pub concurrent_requests: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod plan_model {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "catalog_plan_models")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub plan_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub model: String,
        /// The model's place in the plan's list.
        pub position: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod pack {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "catalog_packs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub position: i64,
        pub credits: i64,
        pub price_fils: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod model {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "catalog_models")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub position: i64,
        /// A CHECK constraint keeps it `local` or `cloud` too.
        pub kind: crate::catalog::ModelKind,
        /// NULL: the kind's default multiplier.
        pub multiplier: Option<f64>,
        pub cloud_fallback: Option<String>,
        pub embedding: bool,
        pub context_tokens: Option<i64>,
        /// NULL: the gateway's default.
        pub max_output_tokens: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod denied_model {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "catalog_denied_models")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub model: String,
        pub position: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod value {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "catalog_values")]
    pub struct Model {
        /// `welcome_credits` or `gateway.<key>`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        /// A TOML literal (`1000`, `2.0`), typed by the catalog field it fills.
        pub value: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Models an admin switched off: the catalog loads without them (migration
/// `m20261129_000200_admin_console`).
pub mod disabled_model {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "catalog_disabled_models")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub model: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One row (`id` 1): raised by every catalog edit, so each instance reloads.
pub mod revision {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "catalog_revision")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i64,
        pub revision: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
