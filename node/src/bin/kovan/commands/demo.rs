//! `demo`: an embedded relay and two nodes in this process.

use clap::Args;

use crate::Context;

/// Start an embedded relay and two nodes in this process, make them
/// friends, exchange a few messages, and print what happened.
#[derive(Debug, Args)]
pub struct Demo;

impl Demo {
    pub fn exec(&self, ctx: &Context) -> anyhow::Result<()> {
        let rt = tokio::runtime::Runtime::new()?;
        rt.block_on(async {
            if ctx.json {
                kovan_node::demo::run(&mut kovan_node::demo::JsonLines).await
            } else {
                kovan_node::demo::run(&mut kovan_node::demo::Text::default()).await
            }
        })?;
        Ok(())
    }
}
