//! Pieces shared by the pages: the site header, form fields and errors, the order table,
//! and what a page shows when its data does not load.
pub mod chart;
mod credits;
mod email;
mod form;
mod header;
mod island;
mod load;
mod orders;
mod public;
pub mod usage_chart;

pub use credits::CreditsCard;
pub use email::email_address;
pub use form::{field_error, general_error, Field, FormError};
pub use header::Header;
pub use island::{copy_to_clipboard, form_field, island_hydrated};
pub use load::{error_line, load_error, to_login};
pub use orders::{item_name, OrdersTable};
pub use public::{examples, public_base_url, CodeBlock, CopyScript, PublicFooter, SeoHead};
