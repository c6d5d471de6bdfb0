// egui's shapes, as bevy_egui draws them, with the colour space converted per vertex instead
// of per pixel. Registered over bevy_egui's own shader (same bindings, same vertex layout;
// bevy_egui 0.42).
//
// egui's colours are sRGB and premultiplied, and egui multiplies a shape's colour with its
// texture in gamma space ("the only way to get text to look right"). bevy_egui's shader does
// that per pixel: linear texel -> gamma, multiply, -> linear, two `pow` per channel. For a
// power-law curve, linear(texel * colour) = linear(texel) * linear(colour), and the sampler
// already returns linear(texel) from an sRGB texture, so only the colour needs converting,
// which is the same at every pixel of a flat shape: once per vertex. Text and flat fills come
// out the same (within a unit of 8-bit colour: sRGB is a power law but for its darkest 4 %);
// the one-pixel feathered edges of shapes fade in linear light rather than in gamma.

struct Transform {
    scale: vec2<f32>,
    translation: vec2<f32>,
}

struct VertexInput {
    @location(0) position: vec2<f32>,
    @location(1) uv: vec2<f32>,
    @location(2) color: vec4<f32>,
}

struct VertexOutput {
    @builtin(position) position: vec4<f32>,
    @location(0) color: vec4<f32>,
    @location(1) uv: vec2<f32>,
}

@group(0) @binding(0) var<uniform> transform: Transform;

#ifdef BINDLESS
@group(1) @binding(0) var image_texture: binding_array<texture_2d<f32>>;
@group(1) @binding(1) var image_sampler: binding_array<sampler>;

struct BindlessOffset {
    offset: u32,
};
var<immediate> offset: BindlessOffset;

#else //BINDLESS
@group(1) @binding(0) var image_texture: texture_2d<f32>;
@group(1) @binding(1) var image_sampler: sampler;
#endif // BINDLESS

// 0-1 linear from 0-1 sRGB gamma.
fn linear_from_gamma_rgb(srgb: vec3<f32>) -> vec3<f32> {
    let cutoff = srgb < vec3<f32>(0.04045);
    let lower = srgb / vec3<f32>(12.92);
    let higher = pow((srgb + vec3<f32>(0.055)) / vec3<f32>(1.055), vec3<f32>(2.4));
    return select(higher, lower, cutoff);
}

@vertex
fn vs_main(in: VertexInput) -> VertexOutput {
    let position = in.position * transform.scale + transform.translation;
    let color = vec4<f32>(linear_from_gamma_rgb(in.color.rgb), in.color.a);
    return VertexOutput(vec4<f32>(position, 0.0, 1.0), color, in.uv);
}

@fragment
fn fs_main(in: VertexOutput) -> @location(0) vec4<f32> {
    #ifdef BINDLESS
    let image_texture = image_texture[offset.offset];
    let image_sampler = image_sampler[offset.offset];
    #endif

    // Level 0: egui's textures have one level, and an explicit level spares a software
    // renderer the per-pixel derivatives that choosing one takes.
    return textureSampleLevel(image_texture, image_sampler, in.uv, 0.0) * in.color;
}
