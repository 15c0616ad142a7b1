import type { Platform } from '../../platform/platform.js';
import type { Starter } from './starter.js';

/**
 * `isoswap init --lang rust`: a cdylib crate with no dependencies (rustc names it
 * `libgame.so`, or `game.dll` with no `lib` prefix).
 */
export const rustStarter = (system: Platform): Starter => ({
  library: `./target/release/${system.libraryPrefix}game${system.libraryExtension}`,
  build: 'cargo build --release',
  edit: 'src/lib.rs',
  ignored: ['target/', 'node_modules/'],
  files: {
    'Cargo.toml': `[package]
name = "game"
version = "0.1.0"
edition = "2021"

[lib]
crate-type = ["cdylib"]

[dependencies]
`,
    'src/lib.rs': `//! The game's logic. Run "npm run dev", then change SPEED (or anything) and save: the
//! library is rebuilt and the new version swapped in while the game runs on, with the
//! same state.
use std::ffi::c_void;
use std::sync::atomic::{AtomicPtr, Ordering};

const SPEED: i32 = 1;

/// Every global the game keeps across versions lives in this struct, inside the state
/// block isoswap owns (--state). Only ever append fields: the next version reads it.
#[repr(C)]
pub struct GameState {
    magic: u32,
    layout: u32,
    ticks: i32,
    x: i32,
}
const GAME_MAGIC: u32 = 0x454d_4147;
const GAME_LAYOUT: u32 = 1;

static GAME: AtomicPtr<GameState> = AtomicPtr::new(std::ptr::null_mut());

/// Called when this version takes over the block; non-zero refuses the version.
#[no_mangle]
pub extern "C" fn isoswap_load(block: *mut c_void, bytes: u32) -> i32 {
    if block.is_null() {
        return 0; // no state block: do_tick keeps no state
    }
    if (bytes as usize) < std::mem::size_of::<GameState>() {
        return 1;
    }
    let state = block as *mut GameState;
    // SAFETY: the host gives a block of \`bytes\` bytes that is ours until isoswap_unload.
    let s = unsafe { &mut *state };
    if s.magic != GAME_MAGIC {
        *s = GameState { magic: GAME_MAGIC, layout: GAME_LAYOUT, ticks: 0, x: 0 };
    } else if s.layout != GAME_LAYOUT {
        return 2;
    }
    GAME.store(state, Ordering::Release);
    0
}

/// Called before this version is unloaded: let go of the block.
#[no_mangle]
pub extern "C" fn isoswap_unload(_block: *mut c_void, _bytes: u32) {
    GAME.store(std::ptr::null_mut(), Ordering::Release);
}

#[no_mangle]
pub extern "C" fn do_tick(tick: i32) -> i32 {
    let state = GAME.load(Ordering::Acquire);
    if state.is_null() {
        return 0;
    }
    // SAFETY: set by isoswap_load, cleared by isoswap_unload; calls come one at a time.
    let s = unsafe { &mut *state };
    s.ticks += 1;
    s.x += SPEED;
    println!("tick {tick}: x = {} (speed {SPEED})", s.x);
    s.x
}
`,
  },
});
