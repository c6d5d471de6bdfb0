// The scaled 3D view (low tier) stretched over its rectangle of the window, under the panels.
// One filtered sample per pixel, written as is: the view is opaque, so nothing is blended.
// (egui painted this image before; its shader converted every texel to gamma and back, two
// `pow` per channel, and blended: 15-30 ms of a 1080p frame under a software renderer.)

#import bevy_core_pipeline::fullscreen_vertex_shader::FullscreenVertexOutput

@group(0) @binding(0) var scene: texture_2d<f32>;
@group(0) @binding(1) var scene_sampler: sampler;

@fragment
fn fragment(in: FullscreenVertexOutput) -> @location(0) vec4<f32> {
    // The image has one level; an explicit level spares a software renderer the per-pixel
    // derivatives that choosing one takes.
    return vec4<f32>(textureSampleLevel(scene, scene_sampler, in.uv, 0.0).rgb, 1.0);
}
