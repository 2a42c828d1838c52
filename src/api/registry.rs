//! The registry: every resource compiled once per process, found by its declaration, its
//! URL path or the table its references point at. `resources::registry()` builds it from the
//! list of resources; the state carries it, so nothing in `api/` names a resource.

use std::collections::HashMap;

use crate::api::compiled::Compiled;
use crate::api::resource::Resource;

pub struct Registry {
    compiled: Vec<Compiled>,
    by_path: HashMap<&'static str, usize>,
}

impl Registry {
    pub fn new(resources: &[&'static Resource]) -> Registry {
        let compiled: Vec<Compiled> = resources.iter().map(|r| Compiled::new(r)).collect();
        let by_path = compiled
            .iter()
            .enumerate()
            .map(|(i, c)| (c.res.path, i))
            .collect();
        Registry { compiled, by_path }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Compiled> {
        self.compiled.iter()
    }

    pub fn by_path(&self, path: &str) -> Option<&Compiled> {
        self.by_path.get(path).map(|&i| &self.compiled[i])
    }

    /// The compiled form of a registered resource.
    pub fn get(&self, res: &Resource) -> &Compiled {
        self.by_path(res.path)
            .filter(|c| std::ptr::eq(c.res, res))
            .expect("every resource the code names is in the registry")
    }

    /// The resource whose own table `table` is: the one a reference to `table` points at.
    pub fn owner_of(&self, table: &str) -> Option<&Compiled> {
        self.by_path(table).filter(|c| c.res.table() == table)
    }
}
