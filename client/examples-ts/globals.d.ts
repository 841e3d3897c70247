// For checking index.js alone: the globals it looks for, of any shape.
declare const wx: any, qq: any, tt: any, ks: any, swan: any, my: any, uni: any, Taro: any
